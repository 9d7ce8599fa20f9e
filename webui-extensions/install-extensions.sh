#!/usr/bin/env bash
# Installs the WebUI extensions of manifest.yaml into EXTENSIONS_DIR, each checked out at its pinned commit.
# Idempotent: an extension already at its commit is left alone; one at another commit is fetched and checked out;
# a folder that is not a git checkout is an error (it is not overwritten).
#   usage: install-extensions.sh [EXTENSIONS_DIR] [MANIFEST]     (defaults: ./extensions, manifest.yaml next to this script)
# Reads the `extensions:` list of the manifest: each entry's `dir:`, `repo:` and `commit:` keys, one per line.
set -euo pipefail

dest_root=${1:-extensions}
manifest=${2:-"$(dirname "$0")/manifest.yaml"}
[ -f "$manifest" ] || { echo "install-extensions: no manifest at $manifest" >&2; exit 2; }
mkdir -p "$dest_root"

# dir repo commit, one extension per line, from the extensions: section (until the next top-level key).
entries=$(awk '
  /^[^ #]/ { section = $1 }
  section == "extensions:" && $1 == "-" { if (dir != "") print dir, repo, commit; dir = repo = commit = "" }
  section == "extensions:" {
    line = $0; sub(/^[ -]+/, "", line); key = line; sub(/:.*/, "", key)
    value = line; sub(/^[^:]*: */, "", value); sub(/ +#.*/, "", value)
    if (key == "dir") dir = value; else if (key == "repo") repo = value; else if (key == "commit") commit = value
  }
  END { if (dir != "") print dir, repo, commit }' "$manifest")
[ -n "$entries" ] || { echo "install-extensions: no extensions in $manifest" >&2; exit 2; }

while read -r dir repo commit; do
  if [ -z "$dir" ] || [ -z "$repo" ] || [ ${#commit} -ne 40 ]; then
    echo "install-extensions: $manifest: an extension lacks dir, repo or a 40-hex commit ($dir $repo $commit)" >&2
    exit 2
  fi
  target="$dest_root/$dir"
  if [ -e "$target" ] && [ ! -d "$target/.git" ]; then
    echo "install-extensions: $target exists but is not a git checkout; move it away first" >&2
    exit 1
  fi
  if [ -d "$target/.git" ] && [ "$(git -C "$target" rev-parse HEAD)" = "$commit" ]; then
    echo "$dir: at ${commit:0:8} already"
    continue
  fi
  if [ ! -d "$target/.git" ]; then
    git clone --quiet "$repo" "$target"
  elif ! git -C "$target" cat-file -e "$commit^{commit}" 2>/dev/null; then
    git -C "$target" fetch --quiet origin
  fi
  git -C "$target" -c advice.detachedHead=false checkout --quiet "$commit"
  echo "$dir: checked out ${commit:0:8} from $repo"
done <<< "$entries"
