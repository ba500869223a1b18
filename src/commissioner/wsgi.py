import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioner.settings")
application = get_wsgi_application()

# What exists once the app is loaded (Django, the URLconf, the models) is never garbage: keep it out of the
# collector's full passes, which otherwise scan it every few requests (about 55 ms each on the national
# benchmarking pages; bench/benchmark_bench.py). And collect the youngest objects every 50,000 allocations,
# not 700: a page that builds 1,000 rows then sets off a few collections, not a hundred, and far fewer full
# ones (docs/benchmarks.md, "Benchmarking at national scale").
gc.freeze()
gc.set_threshold(50_000, 20, 10)
