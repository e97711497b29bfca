#!/usr/bin/env python3
"""Prints an account SAS (blob service; container and object; rwdlac; one day) for
scripts/bench-blob.sh, signed with the account key given, by azure-storage-blob.
Usage: blob_sas.py <account> <base64 key>"""
import datetime
import sys

from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

account, key = sys.argv[1], sys.argv[2]
print(generate_account_sas(
    account, key, resource_types=ResourceTypes(container=True, object=True),
    permission=AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True),
    expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)))
