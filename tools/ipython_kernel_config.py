# Installed into .venv/etc/ipython/ by `make`: kernels started by the book build, the twin
# regeneration and nbval log only errors (ipykernel 7 otherwise prints a warning about its
# local TCP transport at every start, which would clutter the build log).
c.IPKernelApp.log_level = "ERROR"  # noqa: F821
