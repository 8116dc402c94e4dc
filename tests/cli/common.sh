# Shared by the end-to-end scripts of tests/cli (sourced; they set WORK, a scratch folder, first).

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_error NEEDLE CMD...: runs CMD (EXPECT_TIMEOUT s, default 60), expects a non-zero exit status that
# is neither a timeout nor a signal, and NEEDLE (a fixed string) in its stderr. stdout and stderr are kept
# in $WORK/out.txt and $WORK/err.txt.
expect_error() {
  local needle="$1"; shift
  set +e
  timeout "${EXPECT_TIMEOUT:-60}" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt"; local rc=$?
  set -e
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ] || fail "rc $rc for: $* ($(tail -2 "$WORK/err.txt"))"
  grep -qF -- "$needle" "$WORK/err.txt" || fail "no '$needle' for: $* -- got: $(tail -2 "$WORK/err.txt")"
}

# tiny_config FILE NAME SCALE ITERS SAVE_EVERY [LOG_EVERY [LR_PATCH]]: a tiny ESPCN run (8 features) on
# the Set5 HR images of that scale, one thread, batch 2: seconds on a CPU.
tiny_config() {
  cat > "$1" <<YAML
name: $2
seed: 1
device: cpu
threads: 1
scale: $3
model: {type: espcn, num_feat: 8}
data:
  train: {hr_dirs: ["\${data}/benchmarks/Set5/x$3/HR"], batch_size: 2, lr_patch: ${7:-16}, workers: 1}
losses: [{type: l1}]
optimizer: {lr: 1.0e-3}
scheduler: {type: constant}
train: {iters: $4, log_every: ${6:-1}, save_every: $5, ema_decay: 0}
YAML
}
