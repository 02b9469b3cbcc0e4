"""Stand-ins for the two S3 calls of the export function (leave this file as it is).

download_template(path) writes the CSV header file, as a GetObject would.
upload(path, prefix) reads the finished file and stores it under prefix/, as a PutObject would; the
role may write only under exports/, so any other prefix raises AccessDenied, as S3 answers.
Every upload is recorded in the simulated table `uploads`, which the checks read.
"""

import os

from lambdalab.services import Table


class AccessDenied(Exception):
    """S3 refused the PutObject (botocore raises a ClientError with this code)."""


def download_template(path: str) -> None:
    print("downloading template")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("report,row,value,status\n")


def upload(path: str, prefix: str) -> dict:
    name = os.path.basename(path)
    key = f"{prefix}/{name}"
    if prefix != "exports":
        raise AccessDenied(f"PutObject s3://nightly-reports/{key}: Access Denied")
    with open(path, "rb") as handle:
        size = len(handle.read())
    Table("uploads", key="key").put({"key": key, "bytes": size})
    print(f"uploaded {key} ({size} bytes)")
    return {"key": key, "bytes": size}
