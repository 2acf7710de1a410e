"""`awscost dashboard`: the cost dashboard in the browser, a thin adapter over views/ (the report job's model
for the viewer, the live usage of the store): Starlette routes, Jinja2 pages, the reports' charts as SVG."""
