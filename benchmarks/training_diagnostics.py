"""Training diagnostics benchmark: the student's full run of the reference notebook and
the autograde time per demo submission.

    python benchmarks/training_diagnostics.py [--seeds N] [--no-autograde]

The full run executes the reference solution as a student would (no NBGRADER_EXECUTION,
kernel 'course-mnist') and prints what it measured: validation accuracy and diagnosis of
each learning rate, the test accuracy with lr 0.1, the loss after memorising 32 images,
and the first-layer gradient ratio sigmoid / ReLU of the deep networks. With --seeds N
the notebook also runs with seeds 0..N-1 instead of its own 42.

Goals (issue): full run <= 5 min and autograde <= 60 s per submission on 2 cores.

Last measured (mnist-lite, 2 cores, load average ~3, an upper bound): full run 15.9 s;
idle machine 9.2 s.
"""

import argparse

from harness import autograde_times, dataset, full_run

ASSIGNMENT = "training_diagnostics"
REPORT = (
    'import json; print(json.dumps({'
    '"val_accuracy": {str(lr): round(float(h["val_accuracy"][-1]), 4) for lr, h in histories.items()}, '
    '"diagnosis": {str(lr): diagnose(h["loss"], h["val_loss"]) for lr, h in histories.items()}, '
    '"test_accuracy_lr_0.1": round(float(np.mean(best.predict(x_test) == y_test)), 4), '
    '"overfit_final_loss": round(float(overfit_losses[-1]), 4), '
    '"sigmoid_over_relu_first_layer": float(deep_histories["sigmoid"]["grad_norms"][0][0] '
    '/ deep_histories["relu"]["grad_norms"][0][0]), '
    '"variant": data.mnist_variant(), "seed": SEED}))'
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=0,
                        help="also run the reference with seeds 0..N-1 (its own seed is 42)")
    parser.add_argument("--no-autograde", action="store_true", help="only time the full run")
    args = parser.parse_args()
    dataset()
    for seed in [42, *range(args.seeds)]:
        edit = [] if seed == 42 else [("seed_everything(42)", f"seed_everything({seed})")]
        seconds, report = full_run(ASSIGNMENT, REPORT, replace=edit)
        print(f"full run: {seconds:6.1f} s  {report}", flush=True)
    if args.no_autograde:
        return
    for student, seconds in autograde_times(ASSIGNMENT).items():
        print(f"autograde {student:<10}: {seconds:6.1f} s", flush=True)


if __name__ == "__main__":
    main()
