# Shared by the fake camera programs (test/fakes/ffmpeg, test/fakes/rpicam-vid):
# the argument log, the camera state file and the recordings of the test
# pattern they play back. Sourced, not run.

FAKE_REAL_FFMPEG=${FAKE_REAL_FFMPEG:-/usr/bin/ffmpeg}
FAKE_CAMERA_DIR=${FAKE_CAMERA_DIR:-${TMPDIR:-/tmp}/glasscast-fake-camera}

# The arguments as a JSON array of strings.
fake_json_args() {
  local out="[" sep="" s r c i
  for s in "$@"; do
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    if [[ $s == *[[:cntrl:]]* ]]; then
      r=""
      for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [[ $c == [[:cntrl:]] ]]; then printf -v c '\\u%04x' "'$c"; fi
        r+=$c
      done
      s=$r
    fi
    out+="$sep\"$s\""
    sep=","
  done
  printf '%s]' "$out"
}

# Appends one line (the arguments as JSON) to $FAKE_ARGS_LOG, if set: one
# write, so that fakes started at once don't mix their lines.
fake_log_args() {
  [[ -n ${FAKE_ARGS_LOG:-} ]] || return 0
  local line
  line=$(fake_json_args "$@")
  printf '%s\n' "$line" >>"$FAKE_ARGS_LOG"
}

# The camera's state, read from $FAKE_CAMERA_STATE at each start:
# "unplugged", "frozen", "hung" or "ok".
fake_camera_state() {
  local file=${FAKE_CAMERA_STATE:-} content
  if [[ -n $file && -f $file ]]; then
    content=$(<"$file")
    case $content in
      *unplugged*) echo unplugged; return ;;
      *frozen*) echo frozen; return ;;
      *hung*) echo hung; return ;;
    esac
  fi
  echo ok
}

# A camera that stops delivering: the device opens, no frame ever comes, and
# the process stays until it is killed.
fake_hang() {
  exec sleep infinity
}

# fake_record NAME FORMAT ARGS...: makes $FAKE_CAMERA_DIR/NAME with the real
# ffmpeg (output options ARGS, output format FORMAT) unless it is there
# already, and prints its path. The file is written under a temporary name and
# renamed, so a fake starting meanwhile never reads a half-written recording.
fake_record() {
  local name=$1 format=$2 tmp err
  shift 2
  local path=$FAKE_CAMERA_DIR/$name
  if [[ ! -s $path ]]; then
    mkdir -p "$FAKE_CAMERA_DIR" || return 1
    tmp=$(mktemp "$FAKE_CAMERA_DIR/.$name.XXXXXX") || return 1
    chmod 644 "$tmp"
    if ! err=$("$FAKE_REAL_FFMPEG" -nostdin -hide_banner -loglevel error "$@" -f "$format" -y "$tmp" 2>&1); then
      rm -f "$tmp"
      printf 'fake camera: recording %s failed: %s\n' "$path" "$err" >&2
      return 1
    fi
    mv -f "$tmp" "$path" || { rm -f "$tmp"; return 1; }
  fi
  printf '%s\n' "$path"
}

# A frame rate as an integer (for a keyframe interval): 30 → 30,
# 30000/1001 → 30, 12.5 → 13.
fake_round_rate() {
  awk -v r="$1" 'BEGIN { n = split(r, p, "/"); v = (n == 2 && p[2] + 0 != 0) ? p[1] / p[2] : r + 0;
    v = int(v + 0.5); print (v < 1 ? 1 : v) }'
}

# A string usable in a file name.
fake_slug() {
  local s=${1//\//_}
  printf '%s' "${s//[^A-Za-z0-9._-]/_}"
}
