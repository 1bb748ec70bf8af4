"""Writes the request bodies MLflow's clients send for one DataFrame.

usage: mlflow_bodies.py RECORDS.json OUT_DIR

RECORDS.json is a JSON array of feature records. The DataFrame holds them with
SessionStartHourTime as a datetime column, the way a client loads the feature
table; each file of OUT_DIR is one /invocations body, written by pandas itself.
"""
import json
import sys

import pandas as pd


def main():
    records_path, out_dir = sys.argv[1], sys.argv[2]
    with open(records_path) as f:
        df = pd.DataFrame(json.load(f))
    df["SessionStartHourTime"] = pd.to_datetime(df["SessionStartHourTime"])

    def write(name, text):
        with open(f"{out_dir}/{name}", "w") as f:
            f.write(text)

    def dump(payload):
        return json.dumps(payload, default=str)  # Timestamps as 'YYYY-MM-DD HH:MM:SS'

    # What mlflow.pyfunc's clients send: to_dict(orient="split") with its index.
    write("split_index.json", dump({"dataframe_split": df.to_dict(orient="split")}))
    # pandas' own JSON: datetimes as epoch milliseconds, no index.
    split = json.loads(df.to_json(orient="split", index=False))
    write("split.json", dump({"dataframe_split": split}))
    records = json.loads(df.to_json(orient="records", date_format="iso"))
    write("records.json", dump({"dataframe_records": records}))
    write("instances.json", dump({"instances": df.to_dict(orient="records")}))
    write("inputs.json", dump({"inputs": df.to_dict(orient="list")}))
    write("index.csv", df.to_csv())
    write("plain.csv", df.to_csv(index=False))


if __name__ == "__main__":
    main()
