"""Sales-import jobs: an upload is read here, by a worker, never in the web request."""


def read_upload(path: str):
    # No app context: reading needs no database; the child process does the parsing.
    from webapp.services.sales_import import read_upload as read

    return read(path)
