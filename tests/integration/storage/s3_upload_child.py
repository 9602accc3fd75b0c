"""Child process for the interrupted-upload tests: put one file into an S3 artifact store.

Usage: python s3_upload_child.py BUCKET PREFIX FILE MULTIPART_THRESHOLD. The AWS SDK's
environment (endpoint, credentials) comes from the parent, which kills this process
while the upload is in flight.
"""

from __future__ import annotations

import sys

from ringrift.storage.artifacts_s3 import S3ArtifactStore

if __name__ == "__main__":
    bucket, prefix, path, threshold = sys.argv[1:5]
    store = S3ArtifactStore(bucket, prefix, cache_dir=f"{path}.cache",
                            multipart_threshold=int(threshold))
    print(store.put_file(path).uri, flush=True)
