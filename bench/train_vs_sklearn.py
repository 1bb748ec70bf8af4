#!/usr/bin/python3
"""Compare `loadcast train` with scikit-learn and XGBoost random forests.

Reads the matrices written by `loadcast train --export-matrix DIR`
(train_X.csv, train_y.csv, test_X.csv, test_y.csv), trains
sklearn RandomForestClassifier and xgboost XGBRFClassifier with the same
shape of forest (100 trees, depth 8, sqrt(features) per node, bootstrap) on
the same vectors and split, and prints time and test accuracy of each next
to loadcast's.

usage: /usr/bin/python3 bench/train_vs_sklearn.py MATRIX_DIR
           --loadcast-seconds S --loadcast-accuracy A [--threads 2]
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import pandas as pd


def load(matrix_dir):
    def read(name):
        return pd.read_csv(os.path.join(matrix_dir, name), dtype=np.float32).to_numpy()

    x_train = read("train_X.csv")
    y_train = read("train_y.csv").ravel().astype(np.int64) - 1
    x_test = read("test_X.csv")
    y_test = read("test_y.csv").ravel().astype(np.int64) - 1
    return x_train, y_train, x_test, y_test


def timed(fit, predict):
    start = time.perf_counter()
    fit()
    seconds = time.perf_counter() - start
    return seconds, predict()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("matrix_dir")
    parser.add_argument("--loadcast-seconds", type=float, required=True,
                        help="loadcast's training time (median of runs), seconds")
    parser.add_argument("--loadcast-accuracy", type=float, required=True,
                        help="loadcast's test accuracy")
    parser.add_argument("--threads", type=int, default=2, help="n_jobs / nthread of the peers (default 2)")
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--peers", default="sklearn,xgboost",
                        help="comma-separated: sklearn, xgboost (default both)")
    args = parser.parse_args()

    x_train, y_train, x_test, y_test = load(args.matrix_dir)
    nf = x_train.shape[1]
    print(f"train {x_train.shape[0]} rows, test {x_test.shape[0]} rows, {nf} features")

    results = [("loadcast", args.loadcast_seconds, args.loadcast_accuracy)]

    peers = args.peers.split(",")
    from sklearn.ensemble import RandomForestClassifier
    rf = RandomForestClassifier(n_estimators=args.trees, max_depth=args.depth, max_features="sqrt",
                                n_jobs=args.threads, random_state=42)
    if "sklearn" in peers:
        seconds, pred = timed(lambda: rf.fit(x_train, y_train), lambda: rf.predict(x_test))
        results.append(("scikit-learn RF", seconds, float(np.mean(pred == y_test))))

    try:
        if "xgboost" not in peers:
            raise ImportError
        import xgboost as xgb
        xrf = xgb.XGBRFClassifier(n_estimators=args.trees, max_depth=args.depth,
                                  colsample_bynode=math.sqrt(nf) / nf, subsample=0.632,
                                  tree_method="hist", max_bin=32, n_jobs=args.threads,
                                  random_state=42)
        seconds, pred = timed(lambda: xrf.fit(x_train, y_train), lambda: xrf.predict(x_test))
        results.append(("XGBoost RF (hist)", seconds, float(np.mean(pred == y_test))))
    except ImportError:
        print("xgboost not run", file=sys.stderr)

    base = args.loadcast_seconds
    print(f"{'learner':<20} {'train s':>9} {'test acc':>9} {'time / loadcast':>16}")
    print("(loadcast: its whole train command; the peers: fit alone)")
    for name, seconds, accuracy in results:
        ratio = seconds / base if base > 0 else float("nan")
        print(f"{name:<20} {seconds:9.2f} {accuracy:9.4f} {ratio:15.2f}x")


if __name__ == "__main__":
    main()
