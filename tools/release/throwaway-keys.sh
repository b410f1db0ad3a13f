#!/usr/bin/env bash
# throwaway-keys.sh DIR: two signing keys that live for a day, for the release
# test: "release" signs the build, "impostor" makes a bad signature. Writes
# DIR/gnupg (the keyring), DIR/fingerprint, DIR/key-id and DIR/public.asc
# (the release key), and DIR/impostor-fingerprint.
set -euo pipefail
dir=$1
mkdir -p "$dir/gnupg"
chmod 700 "$dir/gnupg"
export GNUPGHOME="$dir/gnupg"
for who in release impostor; do
  gpg --batch --quiet --gen-key <<KEY 2>/dev/null
%no-protection
Key-Type: RSA
Key-Length: 2048
Name-Real: rollout $who test key
Name-Email: $who@example.invalid
Expire-Date: 1d
%commit
KEY
done
fpr() { gpg --list-keys --with-colons "$1@example.invalid" | awk -F: '/^fpr/{print $10; exit}'; }
fpr release >"$dir/fingerprint"
fpr impostor >"$dir/impostor-fingerprint"
cut -c25-40 "$dir/fingerprint" >"$dir/key-id"
gpg --armor --export "$(cat "$dir/fingerprint")" >"$dir/public.asc" 2>/dev/null
