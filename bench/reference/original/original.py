"""
The original design (../../../../shared/original-design.md), rebuilt for comparison only: a Flask distributor
that places keys on an MD5 hash ring with 100 virtual nodes per server and forwards each request with the
`requests` library, in front of Flask key-value servers keeping a dict and saving it to a JSON file
periodically. Written from the design document (its code is not available here), kept as plain as it
describes. Usage: python3 original.py node PORT DATA_DIR | python3 original.py distributor PORT NODE_PORT...
"""
import bisect
import hashlib
import json
import os
import sys
import threading
import time

import requests
from flask import Flask, jsonify, request


class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.vnodes = vnodes
        self.ring = {}
        self.keys = []
        for node in nodes:
            self.add_node(node)

    def _hash(self, key):
        return int(hashlib.md5(key.encode()).hexdigest(), 16)

    def add_node(self, node):
        for i in range(self.vnodes):
            h = self._hash(f"{node}:{i}")
            self.ring[h] = node
            bisect.insort(self.keys, h)

    def remove_node(self, node):
        for i in range(self.vnodes):
            h = self._hash(f"{node}:{i}")
            del self.ring[h]
            self.keys.remove(h)

    def get_node(self, key):
        h = self._hash(key)
        index = bisect.bisect(self.keys, h) % len(self.keys)
        return self.ring[self.keys[index]]


def run_node(port, data_dir):
    app = Flask(__name__)
    path = os.path.join(data_dir, f"store_{port}.json")
    data = {}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    lock = threading.Lock()

    def save_periodically():
        while True:
            time.sleep(10)
            with lock:
                snapshot = dict(data)
            with open(path, "w") as f:
                json.dump(snapshot, f)

    threading.Thread(target=save_periodically, daemon=True).start()

    @app.route("/put", methods=["PUT"])
    def put():
        with lock:
            data[request.args.get("key")] = request.args.get("value")
        return jsonify({"message": "Value stored successfully"}), 200

    @app.route("/get", methods=["GET"])
    def get():
        key = request.args.get("key")
        with lock:
            if key in data:
                return jsonify({"value": data[key]}), 200
        return jsonify({"error": "Key not found"}), 404

    @app.route("/del", methods=["DELETE"])
    def delete():
        key = request.args.get("key")
        with lock:
            if key in data:
                del data[key]
                return jsonify({"message": "Key deleted successfully"}), 200
        return jsonify({"error": "Key not found"}), 404

    print(json.dumps({"msg": "listening", "port": port}), flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True)


def run_distributor(port, node_ports):
    app = Flask(__name__)
    ring = HashRing([f"127.0.0.1:{p}" for p in node_ports])

    def forward(method, path):
        node = ring.get_node(request.args.get("key"))
        answer = requests.request(method, f"http://{node}{path}", params=request.args)
        return answer.content, answer.status_code, {"Content-Type": "application/json"}

    @app.route("/put", methods=["PUT"])
    def put():
        return forward("PUT", "/put")

    @app.route("/get", methods=["GET"])
    def get():
        return forward("GET", "/get")

    @app.route("/del", methods=["DELETE"])
    def delete():
        return forward("DELETE", "/del")

    print(json.dumps({"msg": "listening", "port": port}), flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True)


if __name__ == "__main__":
    if sys.argv[1] == "node":
        run_node(int(sys.argv[2]), sys.argv[3])
    else:
        run_distributor(int(sys.argv[2]), [int(p) for p in sys.argv[3:]])
