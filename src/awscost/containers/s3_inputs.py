"""Container usage logs kept in S3 (the deployed `service_costs` job reads `s3://<DataBucket>/containers/`).

An input `s3://bucket/prefix/` is every object under the prefix (ListObjectsV2, all pages) whose name ends in
one of the suffixes a local directory is read by (*.json, *.jsonl, *.log, *.gz); `s3://bucket/key` without a
trailing '/' is that one object when it exists, else the prefix `key/`. Each object is downloaded into the
caller's work directory (in key order, under its key's last part) and read by the same readers as a
local file; `names` maps every downloaded file back to its s3:// URL, so what a result says about an input
(malformed lines, conflicting attributes) names the object, never the temporary path.

Errors are those of the bills read from S3 (billing/s3_sources.py): a missing bucket, object or an empty prefix
is an InputError naming the URL; a refusal is an AwsAccessError naming the URL and the S3 action. They are
raised before any sample is read. The logs are read with the function's own credentials, not [billing.s3]'s
role: they are in the stack's bucket, not the payer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from awscost.billing.s3 import S3Location, client, is_s3
from awscost.billing.s3_sources import download, list_objects
from awscost.containers.inputs import INPUT_SUFFIXES
from awscost.core.errors import InputError

READER = "the caller"  # who needs s3:ListBucket / s3:GetObject, named in a refusal


@dataclass
class Fetched:
    """The inputs as local paths (local ones as given), and each downloaded file's s3:// URL."""

    paths: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # local path -> s3:// URL

    def name(self, text: str) -> str:
        """`text` (a message naming a downloaded file) with each such file named by its URL."""
        for local, url in self.names.items():
            text = text.replace(local, url)
        return text


def fetch_inputs(inputs: Sequence[str], workdir: Path) -> Fetched:
    """Local inputs as given; each s3:// input's log objects downloaded under `workdir` (see the module)."""
    out = Fetched()
    s3 = None
    for number, raw in enumerate(inputs):
        if not is_s3(raw):
            out.paths.append(raw)
            continue
        s3 = s3 or client()
        loc = S3Location.parse(raw)
        objects = list_objects(s3, loc, reader=READER)
        exact = [o for o in objects if o.key == loc.prefix] if loc.prefix and not raw.endswith("/") else []
        chosen = exact
        if not chosen:
            folder = S3Location.parse(raw, folder=True)
            chosen = [
                o for o in objects if o.key.startswith(folder.prefix) and o.key.endswith(INPUT_SUFFIXES)
            ]
            if not chosen:
                raise InputError(
                    "no container usage logs under this S3 prefix"
                    + ("" if raw.endswith("/") else ", and no such object"),
                    where=raw,
                    hint=f"objects named *{', *'.join(INPUT_SUFFIXES)}",
                )
        for i, obj in enumerate(sorted(chosen, key=lambda o: o.key)):
            # One folder per object, in key order; the key's last part kept (a reader tells .gz by it). A key's
            # other parts never become a path here, so no key ("../x") can reach outside the work directory.
            name = obj.key.rsplit("/", 1)[-1]
            target = (
                workdir / f"s3-{number:04d}" / f"{i:06d}" / (name if name not in ("", ".", "..") else "log")
            )
            local = download(s3, obj.bucket, obj.key, target, reader=READER)
            out.paths.append(str(local))
            out.names[str(local)] = obj.url
    return out
