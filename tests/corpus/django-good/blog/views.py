import requests
import structlog
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from tenacity import retry, stop_after_attempt, wait_exponential

from blog.models import Post

log = structlog.get_logger()


def health(request):
    return JsonResponse({"status": "ok"})


def posts(request):
    queryset = Post.objects.select_related("author").order_by("-id")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return JsonResponse({"posts": [{"title": p.title, "author": p.author.name} for p in page]})


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.2))
def _share(post_id: int) -> None:
    requests.post("https://social.example.com/share", json={"id": post_id}, timeout=5).raise_for_status()


@login_required
def share(request, post_id):
    try:
        _share(post_id)
    except requests.RequestException:
        log.warning("share failed", post_id=post_id)
        return JsonResponse({"error": "share_unavailable"}, status=503)
    return JsonResponse({"ok": True})
