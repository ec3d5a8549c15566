"""Model files with text and code columns written before the unseen slot, and what that
code computed with them (see README.md): run from a checkout of 211a64a as
``PYTHONPATH=. python tests/data/no_unseen_slot/make_files.py OUT_DIR``."""
import json, subprocess, sys, warnings
from pathlib import Path
import numpy as np, pandas as pd, torch
import aekit
from aekit.scorer import Scorer

torch.set_num_threads(1)
out = Path(sys.argv[1])
rng = np.random.RandomState(0)
n = 300
channel = rng.choice(["web", "app", "store"], n, p=[0.5, 0.4, 0.1])
df = pd.DataFrame({
    "amount": (rng.lognormal(3, 0.5, n) * np.where(channel == "store", 2, 1)).round(2),
    "hour": rng.randint(0, 24, n),
    "channel": channel,
    "card_present": rng.choice([True, False], n),
    "status": rng.choice([200, 404, 500], n, p=[0.7, 0.2, 0.1]),
})
df.loc[rng.choice(n, 15, replace=False), "amount"] = np.nan
df.to_csv(out / "table.csv", index=False)
test = df.iloc[:12].copy().astype({"channel": object, "status": object})
test.loc[8, "channel"] = "phone"   # never seen
test.loc[9, "status"] = 503        # a code never seen
test.loc[10, "channel"] = None     # a missing category
test.loc[11, ["channel", "status"]] = ["phone", 503]
test.to_csv(out / "test.csv", index=False)
subprocess.run([sys.executable, "-m", "aekit", "train", "--data", str(out / "table.csv"),
                "--categorical", "status", "--hidden", "8", "--code-size", "2", "--epochs", "2",
                "--seed", "0", "--device", "cpu", "-q", "-o", str(out / "detector.safetensors")],
               check=True)
pca = aekit.AnomalyDetector(method="pca", categorical=["status"]).fit(df)
pca.save(out / "pca_detector.safetensors")
ae = aekit.Autoencoder(code_size=2, hidden=(8,), epochs=2, random_state=0,
                       categorical=["status"]).fit(df)
ae.save(out / "autoencoder.safetensors")
t = pd.read_csv(out / "test.csv")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    det = aekit.load(out / "detector.safetensors", device="cpu")
    expected = {
        "commit": subprocess.run(["git", "-C", str(Path(aekit.__file__).parents[1]), "rev-parse",
                                  "HEAD"], capture_output=True, text=True).stdout.strip(),
        "detector_anomaly_score": det.anomaly_score(t).tolist(),
        "detector_numpy_anomaly_score": Scorer(out / "detector.safetensors",
                                               device="cpu").anomaly_score(t).tolist(),
        "pca_detector_anomaly_score": aekit.load(out / "pca_detector.safetensors",
                                                 device="cpu").anomaly_score(t).tolist(),
        "autoencoder_transform": aekit.load(out / "autoencoder.safetensors",
                                            device="cpu").transform(t).tolist(),
        "encoded_width": int(det.schema_.n_encoded),
        "encoded_names": det.schema_.encoded_names(),
    }
r = subprocess.run([sys.executable, "-m", "aekit", "detect", str(out / "test.csv"), "-m",
                    str(out / "detector.safetensors"), "--explain", "2", "--device", "cpu"],
                   capture_output=True, text=True, check=True)
expected["detect_csv"] = r.stdout
(out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
print(json.dumps({k: v for k, v in expected.items() if k != "autoencoder_transform"}, indent=1))
