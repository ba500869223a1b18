"""Shared by the page benchmarks (performance_bench.py, benchmark_bench.py): the bare-view anchor, the
URLconf that adds it, nearest-rank percentiles and the machine's CPU model."""

import math
import platform
import sys
import types
from pathlib import Path

BARE_URL = "/bench-bare/"


def percentile(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def bare(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


def install_urlconf(name):
    """The project's URLs plus the bare view (at BARE_URL), as the root urlconf (a module called ``name``)."""
    from django.conf import settings
    from django.urls import clear_url_caches, include, path

    module = types.ModuleType(name)
    module.urlpatterns = [path(BARE_URL.strip("/") + "/", bare, name="bench-bare"),
                          path("", include(settings.ROOT_URLCONF))]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
