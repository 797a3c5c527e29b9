"""gunicorn settings, read from the working directory by every `gunicorn` started here
(the Dockerfile, docker-compose.yml, the tests).

The access log leaves out the query string and the referrer: both are URLs, and URLs are
not a place where PHI may be written down (a search term, a name someone typed).
"""

# Client, time, "METHOD /path PROTOCOL", status, bytes, duration (ms), user agent.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)s "%(a)s"'
