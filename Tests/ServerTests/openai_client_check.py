"""Drives a running `reptune serve` with the official `openai` package (ServerProcessTests runs it).

usage: openai_client_check.py BASE_URL API_KEY MODEL VECTOR LAYER MULTIPLIER
Prints one JSON object: what each call returned, for the Swift test to compare with `reptune generate`.
"""
import json
import sys

import openai

base_url, api_key, model, vector, layer, multiplier = sys.argv[1:7]
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=120)
messages = [{"role": "user", "content": "Describe a quiet morning."}]
steering = [{"vector": vector, "layer": int(layer), "multiplier": float(multiplier)}]
out = {"openai_version": openai.__version__}

models = client.models.list()
out["models"] = [m.id for m in models.data]

plain = client.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0)
out["plain"] = plain.choices[0].message.content

steered = client.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0,
                                         extra_body={"steering": steering})
out["steered"] = steered.choices[0].message.content
out["steered_finish"] = steered.choices[0].finish_reason
out["steered_echo"] = (steered.model_extra or {}).get("reptune")
out["usage"] = steered.usage.completion_tokens

pieces = []
finish = None
for chunk in client.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0,
                                            extra_body={"steering": steering}, stream=True):
    if chunk.choices:
        pieces.append(chunk.choices[0].delta.content or "")
        finish = chunk.choices[0].finish_reason or finish
out["streamed"] = "".join(pieces)
out["streamed_finish"] = finish

completion = client.completions.create(model=model, prompt="The capital of France is", max_tokens=5, temperature=0,
                                       logprobs=3)
out["completion"] = completion.choices[0].text
out["completion_logprobs"] = len(completion.choices[0].logprobs.token_logprobs)

try:
    client.chat.completions.create(model=model, messages=messages, max_tokens=4,
                                   extra_body={"steering": [{"vector": vector, "layer": 999}]})
    out["bad_layer"] = None
except openai.BadRequestError as e:
    out["bad_layer"] = {"status": e.status_code, "param": e.body.get("param") if isinstance(e.body, dict) else None}

try:
    openai.OpenAI(base_url=base_url, api_key="wrong", max_retries=0).models.list()
    out["wrong_key"] = None
except openai.AuthenticationError as e:
    out["wrong_key"] = e.status_code

print(json.dumps(out))
