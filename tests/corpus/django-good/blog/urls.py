from django.urls import path

from blog import views

urlpatterns = [
    path("healthz", views.health),
    path("posts", views.posts),
    path("posts/<int:post_id>/share", views.share),
]
