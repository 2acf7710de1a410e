"""Job B, reserved capacity: usage statistics, the break-even RI math, size flexibility, the RI/SP plan, prices
(`pricing/`) and Cost Explorer."""
