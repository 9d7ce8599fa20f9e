#!/usr/bin/env bash
# A stand-in for kohya-ss sd-scripts' train_network.py, for tests (no Python, no GPU): reads --config_file like
# train_util.read_config_from_file (flat key = value lines, tables ignored), checks the dataset config's image_dir and
# caption files, prints kohya-style log lines and a tqdm "steps" bar redrawn with \r on stderr (with avr_loss), and
# writes OUTPUT_DIR/OUTPUT_NAME.safetensors (a minimal valid safetensors file: 8-byte header length + JSON header).
# Failure modes, for tests: FAKE_TRAINER_FAIL=traceback (a Python traceback halfway, exit 1), =no-output (exit 0
# without writing the file), =silent (exit 3, prints nothing); or `seed = 666` in the config fails like traceback.
# FAKE_TRAINER_SLEEP=SECONDS sleeps per step; FAKE_TRAINER_PID_FILE=PATH records this process' id.
set -u
config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config_file) config="$2"; shift 2 ;;
    --config_file=*) config="${1#--config_file=}"; shift ;;
    *) shift ;;
  esac
done
[ -n "${FAKE_TRAINER_PID_FILE:-}" ] && echo $$ > "$FAKE_TRAINER_PID_FILE"
if [ "${FAKE_TRAINER_FAIL:-}" = "silent" ]; then exit 3; fi
if [ -z "$config" ] || [ ! -f "$config" ]; then
  echo "${config}.toml not found." >&2
  exit 1
fi

value() { # value FILE KEY -> the value with quotes removed
  sed -n "s/^$2 *= *//p" "$1" | head -n 1 | sed 's/^"\(.*\)"$/\1/'
}

output_dir=$(value "$config" output_dir)
output_name=$(value "$config" output_name)
dataset_config=$(value "$config" dataset_config)
steps=$(value "$config" max_train_steps)
epochs=$(value "$config" max_train_epochs)
seed=$(value "$config" seed)
image_dir=$(value "$dataset_config" image_dir)
repeats=$(value "$dataset_config" num_repeats)
caption_extension=$(value "$dataset_config" caption_extension)
batch=$(value "$dataset_config" batch_size)

echo "Loading settings from $config..."
echo "prepare tokenizer"
images=0
for image in "$image_dir"/*.png; do
  [ -f "$image" ] || continue
  if [ ! -f "${image%.png}$caption_extension" ]; then
    echo "Traceback (most recent call last):" >&2
    echo "  File \"train_network.py\", line 1, in <module>" >&2
    echo "FileNotFoundError: caption file not found: ${image%.png}$caption_extension" >&2
    exit 1
  fi
  images=$((images + 1))
done
if [ "$images" -eq 0 ]; then
  echo "No data found. Please verify arguments (train_data_dir must be the parent of folders with images)" >&2
  exit 1
fi
per_epoch=$(( (images * repeats + batch - 1) / batch ))
if [ -n "$epochs" ]; then
  total=$(( epochs * per_epoch ))
else
  total=$steps
  epochs=$(( (total + per_epoch - 1) / per_epoch ))
fi
echo "override steps. steps for $epochs epochs is / 指定エポックまでのステップ数: $total"
echo "running training / 学習開始"
echo "  num train images * repeats / 学習画像の数×繰り返し回数: $((images * repeats))"

fail_at=-1
if [ "${FAKE_TRAINER_FAIL:-}" = "traceback" ] || [ "$seed" = "666" ]; then fail_at=$(( total / 2 )); fi

bar() { # bar STEP TOTAL LOSS
  local pct=$(( $1 * 100 / $2 )) filled=$(( $1 * 10 / $2 ))
  local hashes="##########" spaces="          "
  printf '\rsteps: %3d%%|%s%s| %d/%d [00:%02d<00:%02d,  5.36it/s, avr_loss=%s]' \
    "$pct" "${hashes:0:$filled}" "${spaces:0:$((10 - filled))}" "$1" "$2" $(( $1 % 60 )) $(( ($2 - $1) % 60 )) "$3" >&2
}

printf '\rsteps:   0%%|          | 0/%d [00:00<?, ?it/s]' "$total" >&2
step=0
epoch=1
while [ "$step" -lt "$total" ]; do
  if [ $(( step % per_epoch )) -eq 0 ]; then printf '\nepoch %d/%d\n' "$epoch" "$epochs"; epoch=$((epoch + 1)); fi
  step=$((step + 1))
  loss=$(printf '0.%04d' $(( 1500 - (step * 700 / total) )))
  bar "$step" "$total" "$loss"
  if [ "$step" -eq "$fail_at" ]; then
    printf '\n' >&2
    cat >&2 <<'TRACE'
Traceback (most recent call last):
  File "/opt/sd-scripts/train_network.py", line 1512, in train
    loss = self.process_batch(batch, text_encoders, unet, network, vae, noise_scheduler, vae_dtype, weight_dtype, accelerator, args)
  File "/opt/sd-scripts/train_network.py", line 381, in process_batch
    noise_pred = self.call_unet(args, accelerator, unet, noisy_latents, timesteps, text_encoder_conds, batch, weight_dtype)
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.65 GiB of which 1.12 GiB is free.
TRACE
    exit 1
  fi
  if [ -n "${FAKE_TRAINER_SLEEP:-}" ]; then sleep "$FAKE_TRAINER_SLEEP"; fi
done
printf '\n' >&2

if [ "${FAKE_TRAINER_FAIL:-}" = "no-output" ]; then
  echo "model saved."
  exit 0
fi
mkdir -p "$output_dir"
header="{\"__metadata__\":{\"ss_output_name\":\"$output_name\",\"ss_network_dim\":\"$(value "$config" network_dim)\",\"ss_steps\":\"$total\"}}"
len=${#header}
printf "$(printf '\\x%02x\\x%02x' $((len & 255)) $((len >> 8 & 255)))\\x00\\x00\\x00\\x00\\x00\\x00%s" "$header" > "$output_dir/$output_name.safetensors.tmp"
mv "$output_dir/$output_name.safetensors.tmp" "$output_dir/$output_name.safetensors"
echo "model saved."
