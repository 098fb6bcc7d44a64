"""An auditor's client: download the signed snapshots and evidence you were granted, verify them offline.

    pip install httpx cryptography
    export AUTODIAG_TOKEN=adm_…        # scopes read:assessments and read:evidence
    python examples/auditor_client.py download --url http://127.0.0.1:8000 --out audit/
    python examples/auditor_client.py verify audit/      # later, offline: no network at all

`download` lists the structures that granted you access, saves the latest snapshot of each submitted
assessment (the canonical JSON, byte for byte, and its signature), every evidence file it names, and
the public keys, then verifies. `verify` checks a saved folder again with nothing but the files:
each snapshot's Ed25519 signature with the saved public key, and each evidence file's SHA-256
against the one the signed snapshot records. Exit code 0 when everything matches, 1 otherwise.
Pin the public key you trust (`keys.json`) out of band: whoever can rewrite the folder can
rewrite the key too.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def download(url: str, token: str, out: Path) -> None:
    """Save keys, then for each granted structure the latest snapshot of each assessment and its files."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        out.mkdir(parents=True, exist_ok=True)
        (out / "keys.json").write_bytes(get(client, "/.well-known/autodiag-snapshot-keys.json").content)
        for structure in paged(client, "/api/v1/structures"):
            print(f"structure {structure['id']} « {structure['name']} »")
            for assessment in paged(client, f"/api/v1/structures/{structure['id']}/assessments"):
                folder = out / f"structure-{structure['id']}" / f"assessment-{assessment['id']}"
                save_assessment(client, assessment["id"], folder)


def save_assessment(client: httpx.Client, assessment_id: int, folder: Path) -> None:
    snapshot = get(client, f"/api/v1/assessments/{assessment_id}/snapshots/latest").json()
    content = get(client, snapshot["content_url"]).content
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "snapshot.json").write_bytes(content)
    signature = {
        key: snapshot[key] for key in ("id", "revision", "sha256", "signature", "key_id", "algorithm")
    }
    (folder / "signature.json").write_text(json.dumps(signature, indent=2), encoding="utf-8")
    for piece in files_named(json.loads(content)):
        response = get(client, f"/api/v1/assessments/{assessment_id}/evidence/{piece['id']}/file")
        (folder / "evidence").mkdir(exist_ok=True)
        (folder / "evidence" / file_name(piece)).write_bytes(response.content)
        if response.headers.get("X-Content-SHA256") != piece["sha256"]:
            print(f"  warning: the server's hash of evidence {piece['id']} differs from the snapshot's")
    print(f"  assessment {assessment_id}: snapshot r{snapshot['revision']} saved in {folder}")


def verify(out: Path) -> list[str]:
    """Every mismatch in a saved folder (empty when everything verifies), printing OK lines."""
    keys = {key["key_id"]: key for key in json.loads((out / "keys.json").read_text(encoding="utf-8"))["keys"]}
    problems: list[str] = []
    for folder in sorted(out.glob("structure-*/assessment-*")):
        signature = json.loads((folder / "signature.json").read_text(encoding="utf-8"))
        content = (folder / "snapshot.json").read_bytes()
        key = keys.get(signature["key_id"])
        if key is None:
            problems.append(f"{folder / 'snapshot.json'}: signed with unknown key {signature['key_id']}")
            continue
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
        try:
            public.verify(base64.b64decode(signature["signature"]), content)
        except InvalidSignature:
            found = hashlib.sha256(content).hexdigest()
            problems.append(
                f"{folder / 'snapshot.json'}: signature does not verify "
                f"(signed sha256 {signature['sha256']}, found {found})"
            )
            continue
        pieces = files_named(json.loads(content))
        for piece in pieces:
            path = folder / "evidence" / file_name(piece)
            found = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "no file"
            if found != piece["sha256"]:
                problems.append(f"{path}: expected sha256 {piece['sha256']}, found {found}")
        print(
            f"OK {folder}: signature valid (key {signature['key_id']}), {len(pieces)} evidence file(s) checked"
        )
    return problems


def files_named(snapshot: dict) -> list[dict]:
    """The evidence files a snapshot records, once each, by id."""
    pieces = {
        piece["id"]: piece
        for answer in snapshot["answers"].values()
        for piece in answer["evidence"]
        if piece["kind"] == "file"
    }
    return [pieces[key] for key in sorted(pieces)]


def file_name(piece: dict) -> str:
    return f"{piece['id']}-{re.sub(r'[^A-Za-z0-9._-]+', '_', piece['filename'])}"


def paged(client: httpx.Client, path: str) -> list[dict]:
    items, page = [], path
    while page:
        answer = get(client, page).json()
        items += answer["items"]
        page = answer["next"]
    return items


def get(client: httpx.Client, path: str) -> httpx.Response:
    response = client.get(path)
    if response.status_code != 200:
        sys.exit(f"error: GET {path} answered {response.status_code}: {response.text[:300]}")
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("download", help="download, then verify")
    fetch.add_argument("--url", default="http://127.0.0.1:8000", help="the server's address")
    fetch.add_argument("--token", default=os.environ.get("AUTODIAG_TOKEN", ""), help="or AUTODIAG_TOKEN")
    fetch.add_argument("--out", type=Path, default=Path("autodiag-audit"), help="where to save")
    check = commands.add_parser("verify", help="verify a saved folder, offline")
    check.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "download":
        if not args.token:
            sys.exit("error: give a token with --token or AUTODIAG_TOKEN")
        download(args.url, args.token, args.out)
    problems = verify(args.out)
    for problem in problems:
        print(f"MISMATCH {problem}")
    print(
        "OK: every snapshot and evidence file verifies" if not problems else f"{len(problems)} mismatch(es)"
    )
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
