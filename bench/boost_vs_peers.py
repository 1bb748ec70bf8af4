#!/usr/bin/python3
"""Compare `loadcast train` with "algorithm": "gradientBoostedTrees" against
XGBoost `hist` and scikit-learn's HistGradientBoostingClassifier on the same
vectors (the matrices `loadcast train --export-matrix DIR` writes), with the
same rounds, depth and learning rate, and print time, test accuracy and the
ratio of each peer's fit time to loadcast's whole train command.

usage: /usr/bin/python3 bench/boost_vs_peers.py MATRIX_DIR --loadcast-seconds S
           --loadcast-accuracy A [--rounds 300 --depth 6 --learning-rate 0.1 --threads 2]
"""
import argparse
import os
import time

import numpy as np
import pandas as pd


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("matrix_dir")
    parser.add_argument("--loadcast-seconds", type=float, required=True)
    parser.add_argument("--loadcast-accuracy", type=float, required=True)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--peers", default="xgboost,sklearn")
    args = parser.parse_args()

    def read(name):
        return pd.read_csv(os.path.join(args.matrix_dir, name), dtype=np.float32).to_numpy()

    x_train, x_test = read("train_X.csv"), read("test_X.csv")
    y_train = read("train_y.csv").ravel().astype(np.int64) - 1
    y_test = read("test_y.csv").ravel().astype(np.int64) - 1
    print(f"train {x_train.shape[0]} rows, test {x_test.shape[0]} rows, {x_train.shape[1]} features")
    results = [("loadcast boosted trees", args.loadcast_seconds, args.loadcast_accuracy)]
    peers = args.peers.split(",")
    if "xgboost" in peers:
        import xgboost as xgb
        model = xgb.XGBClassifier(n_estimators=args.rounds, max_depth=args.depth,
                                  learning_rate=args.learning_rate, tree_method="hist",
                                  max_bin=256, n_jobs=args.threads, random_state=42)
        start = time.perf_counter()
        model.fit(x_train, y_train)
        seconds = time.perf_counter() - start
        results.append(("XGBoost hist", seconds, float(np.mean(model.predict(x_test) == y_test))))
    if "sklearn" in peers:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        from sklearn.ensemble import HistGradientBoostingClassifier
        model = HistGradientBoostingClassifier(max_iter=args.rounds, max_depth=args.depth,
                                               learning_rate=args.learning_rate,
                                               early_stopping=False, random_state=42)
        start = time.perf_counter()
        model.fit(x_train, y_train)
        seconds = time.perf_counter() - start
        results.append(("scikit-learn HistGradientBoosting", seconds,
                        float(np.mean(model.predict(x_test) == y_test))))
    for name, seconds, accuracy in results:
        ratio = seconds / args.loadcast_seconds
        print(f"{name:36s} {seconds:8.2f} s  test accuracy {accuracy:.4f}  "
              f"{ratio:5.2f}x loadcast's time")


if __name__ == "__main__":
    main()
