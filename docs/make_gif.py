"""The README's GIF: one evaluation episode of a trained Reach2D agent, from its video.

    python examples/reach.py --out runs/baseline_reach
    jepa-agent eval runs/baseline_reach/checkpoint.safetensors --episodes 1 --video 1 --threads 1 --out runs/gif
    python docs/make_gif.py runs/gif/videos/eval_000.mp4 docs/assets/reach2d_episode.gif

The video is what ``jepa-agent eval --video`` records: the arm, the goal circled (radius = the
success threshold, green once reached) and the imagined plan in orange (the world model's
predicted latents of the last plan, read out by the probe). Every ``--every``-th frame is kept
and scaled to ``--size`` pixels, so the GIF stays small.
"""

from __future__ import annotations

import argparse

import imageio.v3 as iio
from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", help="an evaluation video (videos/eval_*.mp4 of a run or an eval folder)")
    parser.add_argument("out", help="the GIF to write (docs/assets/reach2d_episode.gif)")
    parser.add_argument("--size", type=int, default=160, help="width and height in pixels (default 160)")
    parser.add_argument("--every", type=int, default=2, help="keep every N-th frame (default 2)")
    parser.add_argument("--fps", type=float, default=10.0, help="frames per second of the GIF (default 10)")
    args = parser.parse_args()
    frames = iio.imread(args.video)  # (T, H, W, 3) uint8
    images = [Image.fromarray(f).resize((args.size, args.size), Image.LANCZOS) for f in frames[:: args.every]]
    images[0].save(args.out, save_all=True, append_images=images[1:], duration=int(1000 / args.fps), loop=0,
                   optimize=True)
    print(f"wrote {args.out}: {len(images)} frames of {args.size}x{args.size}")


if __name__ == "__main__":
    main()
