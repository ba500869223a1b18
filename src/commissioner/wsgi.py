import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioner.settings")
application = get_wsgi_application()

# What exists once the app is loaded (Django, the URLconf, the models) is never garbage: keep it out of the
# collector's full passes, which otherwise scan it every few requests (about 55 ms each on the national
# benchmarking pages; bench/benchmark_bench.py).
gc.freeze()
