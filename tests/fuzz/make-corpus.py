#!/usr/bin/env python3
"""Writes the text seeds of the fuzz targets into tests/fuzz/corpus/<target>/: real answer
bodies, error bodies of the OpenAI and Azure shapes, event streams, key files and options; and
the known hostile inputs (JSON nested tens of thousands of levels deep). The image seeds come
from make-image-seeds (make_image_seeds.cpp). Run from anywhere; rewrites the files it owns."""
import base64
import json
import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"

# Nested deeper than any parser that recurses can take on a default stack.
DEEP_ARRAY = "[" * 76_000 + "]" * 76_000  # ~150 KB


def deep_object(levels):
    """`levels` levels of nesting, objects and arrays alternating (an object outermost): a
    valid document, 3.5 bytes a level, so 60,000 levels stay near 200 KB."""
    pairs = levels // 2
    return '{"":[' * pairs + "1" + "]}" * pairs


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
B64_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/p9S2WQAAAABJRU5ErkJggg=="

FILTERS = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}


def compact(value):
    return json.dumps(value, separators=(",", ":"))


IMAGES_RESPONSE = {
    "openai-gpt-image-1.json": compact({
        "created": 1713833628, "background": "opaque", "output_format": "png",
        "size": "1024x1024", "quality": "high",
        "data": [{"b64_json": B64_PNG}],
        "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
                  "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}}),
    "openai-two-images.json": compact({"created": 1, "data": [{"b64_json": "aGVsbG8="},
                                                              {"b64_json": "aGk="}]}),
    "dall-e-3-url.json": compact({"created": 1698116662, "data": [{
        "url": "https://oaidalleapiprodscus.blob.core.windows.net/private/img.png?se=1",
        "revised_prompt": "A vivid, natural sunset over a tranquil sea."}]}),
    "azure-filters.json": compact({"created": 1698116662, "data": [{
        "b64_json": B64_PNG, "revised_prompt": "x",
        "prompt_filter_results": dict(FILTERS, profanity={"detected": False, "filtered": False},
                                      custom_blocklists={"filtered": False, "details": []}),
        "content_filter_results": FILTERS}]}),
    "broken-base64.json": compact({"created": 1, "data": [{"b64_json": "@@@@"}]}),
    "pretty.json": json.dumps({"created": 2, "data": [{"b64_json": "aGk="}],
                               "usage": {"total_tokens": 1}}, indent=2),
    "known-deep-array.json": DEEP_ARRAY,
    # Issue 17: a header claiming far more pixels than any size asked for, more images than
    # asked, and a declared size past the one asked for; all refused before decoding.
    "known-png-header-30000.json": compact({"created": 1, "data": [{"b64_json": base64.b64encode(
        PNG_SIGNATURE + struct.pack(">I4sIIBBBBB", 13, b"IHDR", 30000, 30000, 8, 6, 0, 0, 0)
        + bytes(4 + 600)).decode()}]}),
    "known-declared-size.json": compact({"created": 1, "size": "8192x8192",
                                         "data": [{"b64_json": B64_PNG}, {"b64_json": B64_PNG}]}),
}

ERRORS = {  # each file: three status digits, then the body
    "openai-401.txt": "401" + compact({"error": {
        "message": "Incorrect API key provided.", "type": "invalid_request_error",
        "param": None, "code": "invalid_api_key"}}),
    "openai-400-param.txt": "400" + compact({"error": {
        "message": "Invalid value: '999x999'. Supported values are: '1024x1024'.",
        "type": "invalid_request_error", "param": "size", "code": "invalid_value"}}),
    "openai-moderation.txt": "400" + compact({"error": {
        "message": "Your request was rejected by the safety system.",
        "type": "image_generation_user_error", "param": None, "code": "moderation_blocked",
        "moderation_details": {"moderation_stage": "output", "categories": ["sexual"]}}}),
    "openai-429.txt": "429" + compact({"error": {
        "message": "Rate limit reached.", "type": "requests", "param": None,
        "code": "rate_limit_exceeded"}}),
    "openai-500.txt": "500" + compact({"error": {
        "message": "The server had an error.", "type": "server_error", "param": None,
        "code": None}}),
    "azure-404-deployment.txt": "404" + compact({"error": {
        "code": "DeploymentNotFound",
        "message": "The API deployment for this resource does not exist."}}),
    "azure-filter-prompt.txt": "400" + compact({"created": 1698435368, "error": {
        "code": "contentFilter",
        "message": "Your task failed as a result of our safety system."}}),
    "azure-inner-error.txt": "400" + compact({"error": {
        "code": "content_policy_violation",
        "message": "Your request was rejected as a result of our safety system.",
        "param": None, "type": None,
        "inner_error": {"code": "ResponsibleAIPolicyViolation",
                        "content_filter_results": {"violence": {"filtered": True,
                                                                "severity": "high"}},
                        "revised_prompt": "x"}}}),
    "azure-innererror.txt": "400" + compact({"error": {
        "code": "BadRequest", "message": "The response was filtered.",
        "innererror": {"code": "ResponsibleAIPolicyViolation",
                       "content_filter_result": {"hate": {"filtered": True,
                                                          "severity": "medium"}}}}}),
    "azure-429-retry.txt": "429" + compact({"error": {
        "code": "429", "message": "Requests to the Images API have exceeded the rate limit."}}),
    "html-502.txt": "502<html><body>Bad gateway</body></html>",
    "empty-503.txt": "503",
    "known-deep-array.txt": "400" + DEEP_ARRAY,
    "known-deep-innererror.txt": "400" + '{"error":{"message":"x","code":"content_filter",'
                                 '"innererror":{"content_filter_result":'
                                 + deep_object(60_000) + "}}}",
}


def sse(*events):
    out = ""
    for name, data in events:
        if name:
            out += f"event: {name}\n"
        out += "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"
    return out


PARTIAL = compact({"type": "image_generation.partial_image", "b64_json": "aGk=",
                   "partial_image_index": 0, "created_at": 1, "size": "1024x1024"})
COMPLETED = compact({"type": "image_generation.completed", "b64_json": B64_PNG,
                     "created_at": 1, "size": "1024x1024", "quality": "high",
                     "usage": {"total_tokens": 7, "input_tokens": 3, "output_tokens": 4,
                               "input_tokens_details": {"text_tokens": 3,
                                                        "image_tokens": 0}}})
SSE = {
    "generate-partials.txt": ": keep-alive\n\n" + sse(
        ("image_generation.partial_image", PARTIAL),
        ("image_generation.partial_image", PARTIAL.replace('"partial_image_index":0',
                                                           '"partial_image_index":1')),
        ("image_generation.completed", COMPLETED)) + "data: [DONE]\n\n",
    "edit-crlf.txt": sse(("image_edit.completed", COMPLETED.replace("generation", "edit")))
    .replace("\n", "\r\n"),
    "multi-line-data.txt": "event: image_generation.completed\ndata: {\"type\":"
                           "\"image_generation.completed\",\ndata: \"b64_json\":\"aGk=\"}\n\n",
    "no-final-blank-line.txt": "event: image_edit.completed\ndata: "
                               + compact({"type": "image_edit.completed", "b64_json": "aGk="}),
    "error-event.txt": sse(("error", compact({"error": {
        "message": "Your request was rejected by the safety system.",
        "type": "image_generation_user_error", "code": "moderation_blocked",
        "param": None}}))),
    "unnamed-error.txt": sse(("", compact({"error": {"message": "boom", "type": "server_error",
                                                      "code": "server_error"}}))),
    "known-deep-array.txt": "event: image_generation.completed\ndata: " + DEEP_ARRAY + "\n\n",
}

CONNECTIONS = {
    "saved.ini": "[general]\ndefault=work\n\n"
                 "[connection work]\nkind=azure\nendpoint=https://res.openai.azure.com\n"
                 "auth=api-key\napi-version=2025-04-01-preview\ndefault-model=img\n"
                 "deployments=img=gpt-image-1;dalle=dall-e-3;\n\n"
                 "[connection local]\nkind=compatible\nendpoint=http://127.0.0.1:8080/v1\n"
                 "auth=bearer\n",
    "azure-v1-entra.ini": "[connection v1]\nkind=azure-v1\n"
                          "endpoint=https://res.openai.azure.com/openai/v1\nauth=entra-id\n"
                          "api-version=preview\n",
    "openai.ini": "# saved by the plug-in\n[general]\ndefault=openai\n"
                  "[connection openai]\nkind=openai\nendpoint=\nauth=bearer\n"
                  "default-model=gpt-image-1\n",
    "escapes.ini": "[connection caf\u00e9 \\s]\nkind=compatible\n"
                   "endpoint=http://localhost:9000/v1\\n\nauth=bearer\n"
                   "deployments=a\\;b=c;d=;=e\n",
    "unknown-kind.ini": "[connection x]\nkind=ftp\nauth=bearer\n",
}

OPTIONS = {
    "options-all.json": compact({"background": "transparent", "output_format": "webp",
                                 "output_compression": 80, "moderation": "low",
                                 "user": "u-1", "input_fidelity": "high", "stream": True,
                                 "partial_images": 2, "references": [3, 7]}),
    "options-empty.json": "{}",
    "options-wrong-type.json": compact({"stream": "yes", "partial_images": 1e300}),
    "last-values-edit.json": compact({"version": 2, "prompt": "a red fox", "model": "gpt-image-1",
                                      "n-images": 2, "size": "1024x1024", "quality": "high",
                                      "input-fidelity": "low", "context": 0.15, "feather": 4.5,
                                      "connection": "work", "options": "{\"stream\":true}"}),
    "last-values-generate.json": compact({"version": 2, "prompt": "x", "model": "dall-e-3",
                                          "n-layers": 1, "size": "1792x1024",
                                          "style": "vivid", "background": "auto",
                                          "quality": "hd", "connection": "",
                                          "options": ""}),
    "last-values-old.json": compact({"version": 1, "prompt": "x"}),
    "known-deep-array.json": DEEP_ARRAY,
    "last-values-odd.json": '{"version":2,"n-images":2147483648,"context":-1e-320,'
                            '"feather":1.7976931348623157e308,"prompt":"\\u0000\\ud83d\\ude00"}',
}


def write(target, files):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_bytes(text.encode("utf-8"))


write("images_response", IMAGES_RESPONSE)
write("http_error", ERRORS)
write("sse", SSE)
write("connections", CONNECTIONS)
write("options", OPTIONS)
