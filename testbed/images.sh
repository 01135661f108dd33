#!/usr/bin/env bash
# Builds the container images the real node needs, without any registry: each one is assembled
# from Debian packages into an OCI layout (umoci) and written as a tar that
# `ctr -n k8s.io images import` takes. Prints the folder holding the tars and `image-map`.
#
#   testbed/images.sh            build what is missing, print the folder
#
# The images (all tags other than `latest`, so that nothing forces a pull):
#   registry.k8s.io/pause:3.10         the sandbox: upstream's pause.c (k8s.io/kubernetes), gcc -static
#   stsc.local/busybox:1.35            busybox-static; the probe and the shells
#   stsc.local/nginx:1.22, :0.8, :0.9  Debian's nginx serving /usr/share/nginx/html on :80;
#                                      0.8 and 0.9 differ (a label), so a roll-out between them
#                                      is a real image change
#   stsc.local/myweb:1                 busybox httpd answering on :8080 (go-myweb's port)
#   stsc.local/idle:1                  stays Running until SIGTERM (mysql's stand-in: the
#                                      scenarios need its pods and volume, not a database)
# `images` lists each image and its tar (`NAME:TAG FILE` lines); `image-map` maps the scenarios' images to these (FROM=TO lines, `--image-map @FILE`).
#
# Cached by content (this script, pause.c, the packages' versions, gcc) under
# STS_TESTBED_CACHE (default ~/.cache/sts-conformance/testbed)/images-<key>.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${STS_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sts-conformance/testbed}
log() { echo "testbed/images: $*" >&2; }

pause_c() {
  local dir
  dir=$(cd "$here/kubernetes" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local go mod download -json k8s.io/kubernetes |
    sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  echo "$dir/build/pause/linux/pause.c"
}

pkg_version() { apt-cache policy "$1" | sed -n 's/^ *Candidate: //p'; }

# nginx comes from Debian's archive (downloaded, never installed): the package lists must know it.
if [ "$(pkg_version nginx)" = "(none)" ] || [ -z "$(pkg_version nginx)" ]; then
  log "apt-get update (the package lists do not know nginx)"
  apt-get update -qq
fi

key=$({
  cat "$0" "$(pause_c)" /etc/services
  for p in busybox-static nginx nginx-common; do echo "$p $(pkg_version "$p")"; done
  gcc --version | head -1
} | sha256sum | cut -c1-16)
out="$cache/images-$key"
if [ -f "$out/.complete" ]; then
  log "cached in $out"
  echo "$out"
  exit 0
fi
for tool in umoci gcc busybox dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || { log "error: '$tool' is missing (apt-get install umoci busybox-static gcc)"; exit 1; }
done
log "building into $out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out.tmp"
mkdir -p "$out.tmp"

# image NAME TAG ROOTFS [umoci config flags…]: one single-layer image, written as NAME-TAG.tar
# (an OCI layout whose only reference is TAG).
image() {
  local name=$1 tag=$2 rootfs=$3
  shift 3
  local layout="$work/layout-${name//\//_}-$tag"
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci insert --rootless --image "$layout:$tag" "$rootfs" /
  umoci config --image "$layout:$tag" --os linux --architecture amd64 "$@"
  umoci gc --layout "$layout"
  tar -C "$layout" -cf "$out.tmp/${name//\//_}-$tag.tar" .
  echo "$name:$tag ${name//\//_}-$tag.tar" >>"$out.tmp/images"
}

# The sandbox image: the tag containerd's sandbox_image names.
mkdir -p "$work/pause/bin"
gcc -static -O2 -DVERSION=v3.10-stsc -o "$work/pause/pause" "$(pause_c)"
rm -rf "$work/pause/bin"
image registry.k8s.io/pause 3.10 "$work/pause" --config.entrypoint /pause --config.user 65535:65535

# busybox: every applet as a link, root's passwd and group, a writable /tmp.
bb="$work/busybox"
mkdir -p "$bb/bin" "$bb/etc" "$bb/tmp" "$bb/root"
cp /bin/busybox "$bb/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$bb/bin/$applet"
done
# busybox-static is glibc, linked statically: its wget and user lookups still load glibc's NSS
# modules at run time (and crash without them), so the image carries them, their libc and the
# files they read.
for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 \
  /lib/x86_64-linux-gnu/libresolv.so.2 /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2; do
  mkdir -p "$bb$(dirname "$lib")"
  cp -L "$lib" "$bb$lib"
done
printf 'passwd: files\ngroup: files\nhosts: files dns\nservices: files\n' >"$bb/etc/nsswitch.conf"
cp /etc/services "$bb/etc/services"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$bb/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$bb/etc/group"
chmod 1777 "$bb/tmp"
image stsc.local/busybox 1.35 "$bb" --config.cmd sh --config.env PATH=/bin

# The idle stand-in: busybox whose command waits, and exits at once on SIGTERM.
image stsc.local/idle 1 "$bb" --config.env PATH=/bin \
  --config.entrypoint sh --config.entrypoint -c \
  --config.entrypoint "trap 'exit 0' TERM; while :; do sleep 1; done"

# go-myweb's stand-in: HTTP on 8080 answering with the pod's name.
web="$work/myweb"
cp -a "$bb" "$web"
mkdir -p "$web/www"
image stsc.local/myweb 1 "$web" --config.env PATH=/bin --config.entrypoint sh --config.entrypoint -c \
  --config.entrypoint "trap 'exit 0' TERM; echo \"Hello World! \$(hostname)\" > /www/index.html; httpd -f -p 8080 -h /www & wait"

# nginx: Debian's nginx with the shared libraries it links, serving /usr/share/nginx/html.
ng="$work/nginx"
mkdir -p "$work/debs" "$ng"
(cd "$work/debs" && apt-get download nginx nginx-common >/dev/null)
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$ng"; done
cp -a "$bb/bin" "$bb/etc" "$bb/tmp" "$bb/lib" "$bb/lib64" "$ng/"
libs=$(ldd "$ng/usr/sbin/nginx") || { log "error: cannot read nginx's libraries"; exit 1; }
if grep -q 'not found' <<<"$libs"; then log "error: a library nginx needs is not on this machine: $libs"; exit 1; fi
for lib in $(grep -o '/[^ ]*' <<<"$libs" | sort -u); do
  mkdir -p "$ng$(dirname "$lib")"
  cp -L "$lib" "$ng$lib"
done
mkdir -p "$ng/var/lib/nginx" "$ng/var/log/nginx" "$ng/run" "$ng/usr/share/nginx/html"
cat >"$ng/etc/nginx/nginx.conf" <<'CONF'
user root;
daemon off;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log /dev/stdout;
  server {
    listen 80;
    root /usr/share/nginx/html;
    index index.html;
  }
}
CONF
cat >"$ng/usr/share/nginx/html/index.html" <<'HTML'
<!DOCTYPE html>
<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>
HTML
for tag in 1.22 0.8 0.9; do
  image stsc.local/nginx "$tag" "$ng" --config.env PATH=/usr/sbin:/bin --config.cmd nginx \
    --config.stopsignal SIGQUIT --config.exposedports 80/tcp --config.label "org.sts-conformance.stand-in=nginx:$tag"
done

cat >"$out.tmp/image-map" <<'MAP'
# The scenarios' images on the testbed's real node (FROM=TO prefixes, first match wins).
k8s.gcr.io/nginx-slim:0.8=stsc.local/nginx:0.8
k8s.gcr.io/nginx-slim:0.9=stsc.local/nginx:0.9
registry.k8s.io/nginx-slim:0.8=stsc.local/nginx:0.8
registry.k8s.io/nginx-slim:0.9=stsc.local/nginx:0.9
nginx:latest=stsc.local/nginx:1.22
nginx:1.19.0=stsc.local/nginx:1.22
nginx=stsc.local/nginx:1.22
busybox:1.28=stsc.local/busybox:1.35
ghcr.io/c1t1d0s7/go-myweb=stsc.local/myweb:1
mysql:8.0=stsc.local/idle:1
fluentd:latest=stsc.local/idle:1
busybox=stsc.local/busybox:1.35
MAP
rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/.complete"
log "built $(wc -l <"$out/images") images"
echo "$out"
