def pytest_configure(config):
    config.addinivalue_line(
        "markers", "dask: runs a real Dask cluster in subprocesses (extra 'dask'; select with "
                   "-m dask, leave out with -m 'not dask')")
