"""awscost: AWS cost optimization and monitoring.

Library first: the command line (`awscost`), the Lambda handler and notebooks all call into this package.
Module-level imports here stay light (standard library only) so a collector Lambda cold-starts fast.
"""

__version__ = "0.1.0"
