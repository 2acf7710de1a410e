"""Container usage inputs (readers, service identity, host capacity) and the snapshot agent.

Imports only the standard library at module level, so the agent stays light on a host.
"""

from awscost.containers.identity import ServiceNamer, image_repository
from awscost.containers.readers import ReadContext, read_inputs
from awscost.containers.samples import COLUMNS, Malformed, ReadResult, Sample

__all__ = [
    "COLUMNS",
    "Malformed",
    "ReadContext",
    "ReadResult",
    "Sample",
    "ServiceNamer",
    "image_repository",
    "read_inputs",
]
