import os
import pickle
import subprocess

import psycopg2
import requests
import yaml
from flask import Flask, jsonify, request

app = Flask(__name__)
app.config["SECRET_KEY"] = "f9c2a7e4b1d8e3c6a5f0b9d2e7c4a1f8"
DB_PASSWORD = "Pr0duction-Passw0rd!"


def db():
    return psycopg2.connect(host="127.0.0.1", dbname="shop", user="shop", password=DB_PASSWORD)


@app.route("/products")
def products():
    conn = db()
    cur = conn.cursor()
    cur.execute("SELECT * FROM products WHERE name LIKE '%%%s%%'" % request.args["q"])
    return jsonify(cur.fetchall())


@app.route("/import", methods=["POST"])
def import_catalogue():
    catalogue = yaml.load(request.data)
    cart = pickle.loads(request.files["cart"].read())
    return jsonify({"items": len(catalogue), "cart": len(cart)})


@app.route("/thumbnail")
def thumbnail():
    subprocess.call("convert " + request.args["file"] + " thumb.png", shell=True)
    return "ok"


@app.route("/price/<sku>")
def price(sku):
    try:
        r = requests.get("https://pricing.internal/v1/" + sku)
        return jsonify(r.json())
    except Exception as e:
        return jsonify({"error": str(e)}), 500


@app.route("/admin/users/<int:user_id>", methods=["DELETE"])
def delete_user(user_id):
    conn = db()
    conn.cursor().execute("DELETE FROM users WHERE id = %s", (user_id,))
    print("deleted", user_id)
    return "", 204


if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)
