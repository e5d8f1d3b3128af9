SECRET_KEY = "django-insecure-8f#k2$w!q9z@x7c&v5b^n3m*l1j0h6g4"
DEBUG = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "blog"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "blog",
        "HOST": "localhost",
        "PASSWORD": "s3cr3t-Blog-Passw0rd",
    }
}
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = True
