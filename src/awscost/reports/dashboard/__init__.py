"""The dashboard's pages, rendered: one implementation for the web app (entrypoints/web, which serves them),
`awscost dashboard export` and the report job (which publishes each audience's set to the reports bucket).
It lives here, below jobs/, so the job may draw them: pages (the PAGES registry and what each shows),
live (the live usage page's counts and estimated cost rate), render (the templates and the static set).
"""
