"""What the front ends that people look at (the dashboard, the Slack command) show: the jobs' results for a
viewer, asked once and kept while the data under them is unchanged. A view computes nothing of its own."""
