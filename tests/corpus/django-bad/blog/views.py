import requests
from django.db import connection
from django.http import JsonResponse

from blog.models import Post


def search(request):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM blog_post WHERE title LIKE '%{request.GET['q']}%'")
        rows = cursor.fetchall()
    return JsonResponse({"rows": rows})


def posts(request):
    data = []
    for post in Post.objects.all():
        data.append({"title": post.title, "author": post.author.name, "comments": post.comment_set.count()})
    return JsonResponse({"posts": data})


def share(request, post_id):
    try:
        requests.post("https://social.example.com/share", json={"id": post_id})
    except:
        pass
    return JsonResponse({"ok": True})
