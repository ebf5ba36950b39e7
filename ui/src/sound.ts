// A short tone per banner, so staff hear the answer without looking: high for admitted, two
// middle beeps for already admitted, low for refused.
import type { Tone } from "./logic";

let ctx: AudioContext | null = null;

function beep(freq: number, start: number, length: number) {
  if (!ctx) return;
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.frequency.value = freq;
  gain.gain.value = 0.15;
  osc.connect(gain).connect(ctx.destination);
  osc.start(ctx.currentTime + start);
  osc.stop(ctx.currentTime + start + length);
}

export function play(tone: Tone) {
  try {
    ctx ??= new AudioContext();
  } catch {
    return; // no audio device: the banner still says it
  }
  if (tone === "ok") beep(880, 0, 0.15);
  else if (tone === "warn") {
    beep(520, 0, 0.12);
    beep(520, 0.2, 0.12);
  } else beep(220, 0, 0.45);
}
