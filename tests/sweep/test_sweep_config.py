"""Sweep files: every mistake is one line naming the key, exit status 2, before Ray starts."""

import shlex
import textwrap

import pytest

from surnn_neuro.cli import main
from surnn_neuro.errors import UserError
from surnn_neuro.sweep.config import load_config
from surnn_neuro.sweep.search import grid_trials, n_trials
from surnn_neuro.sweep.trials import check_trials, reproduce_command, trial_key, trial_train_config

GOOD = """
[sweep]
search = "grid"
sim_samples = 8
[train]
task = "digits"
hidden = 8
epochs = 1
[space]
model = ["sugru", "gru"]
budget = [0.0, 0.01]
"options.duty" = [0.1, 0.3]
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


@pytest.mark.parametrize("text, expected", [
    ("[sweep]\nsearch = 'grdi'\n[train]\ntask='digits'\nmodel='gru'\n",
     "sweep.search: unknown 'grdi'; known: grid, random, optuna"),
    ("[sweep]\nsearhc = 'grid'\n", "sweep.searhc: unknown key"),
    ("[swep]\n", "swep: unknown table"),
    ("[train]\ntask = 'digits'\n", "train.model: missing"),
    ("[train]\ntask='digits'\nmodel='gru'\nhiden = 3\n", "train.hiden: unknown key"),
    ("[train]\ntask='digits'\nmodel='gru'\nhidden = 'big'\n", "train.hidden: expected an integer, got 'big'"),
    ("[train]\ntask='digits'\n[space]\nmodel = []\n", "space.model: empty list"),
    ("[train]\ntask='digits'\n[space]\nmodel = ['gru', 'gru']\n", "space.model: lists a value twice"),
    ("[train]\ntask='digits'\nmodel='gru'\n[space]\nhidden = [8, 'x']\n",
     "space.hidden: expected a list of integers, got 'x'"),
    ("[train]\ntask='digits'\nmodel='gru'\n[space]\nlr = {loguniform = [1e-3, 1e-2]}\n",
     "space.lr: a range needs search = 'random' or 'optuna'"),
    ("[sweep]\nsearch='random'\nsamples=2\n[train]\ntask='digits'\nmodel='gru'\n[space]\n"
     "lr = {loguniform = [0, 1e-2]}\n",
     "space.lr: loguniform needs low > 0"),
    ("[sweep]\nsearch='random'\nsamples=2\n[train]\ntask='digits'\nmodel='gru'\n[space]\n"
     "hidden = {uniform = [8, 16]}\n",
     "space.hidden: an integer setting takes {int = [lo, hi]}"),
    ("[train]\ntask='digits'\nmodel='gru'\n[space]\ndevice = ['cpu']\n", "space.device: cannot vary"),
    ("[train]\ntask='digits'\nmodel='gru'\nbudget=0.1\n[space]\nbudget = [0.0]\n",
     "space.budget: also fixed in [train]"),
    ("[sweep]\nprofile = 'loihi3'\n[train]\ntask='digits'\nmodel='gru'\n",
     "sweep.profile: unknown profile 'loihi3'"),
    ("[sweep]\nsamples = 3\n[train]\ntask='digits'\nmodel='gru'\n",
     "sweep.samples: a grid runs every combination once"),
    ("[resources]\ngpus = 1\n[train]\ntask='digits'\nmodel='gru'\ndevice='cpu'\n",
     "resources.gpus: 1 GPU(s) reserved per trial but train.device = 'cpu'"),
    ("[train]\ntask='digits'\nmodel='gru'\ndevice='cuda'\n", "train.device: 'cuda' needs resources.gpus > 0"),
    ("[train\n", "not valid TOML"),
])
def test_bad_files_name_the_key(tmp_path, text, expected):
    with pytest.raises(UserError) as e:
        load_config(write(tmp_path, text))
    msg = str(e.value)
    assert expected in msg and "\n" not in msg and msg.startswith(str(tmp_path / "s.toml"))


@pytest.mark.parametrize("text, expected", [
    ("[train]\ntask='digitz'\nmodel='gru'\n", "train.task = 'digitz': unknown task 'digitz'"),
    ("[train]\ntask='digits'\n[space]\nmodel=['sugru', 'gur']\n", "space.model = 'gur': unknown model 'gur'"),
    ("[train]\ntask='digits'\nmodel='gru'\n[space]\nlr=[0.01, -1.0]\n", "space.lr = -1.0: must be > 0"),
    ("[train]\ntask='digits'\nmodel='sugru'\nseq_len = 10\n", "train.seq_len = 10: task digits has a fixed length"),
    ("[train]\ntask='digits'\n[space]\nmodel=['sugru','gru']\n'options.dutty' = [0.1]\n",
     "space.options.dutty: no model of this sweep takes option 'dutty'"),
    ("[train]\ntask='digits'\nmodel='sugru'\n[space]\n'options.duty' = [0.2, 1.5]\n",
     "space.options.duty = 1.5: model 'sugru'"),
    ("[train]\ntask='digits'\nmodel='gru'\n[model_options.gru]\nduty = 0.2\n",
     "model_options.gru.duty: model 'gru' has no option 'duty'"),
    ("[train]\nmodel='gru'\n[space]\ntask=['digits', 'adding']\n",
     "space.task: tasks with different metrics"),
])
def test_bad_trial_settings_are_found_before_ray(tmp_path, text, expected):
    with pytest.raises(UserError) as e:
        check_trials(load_config(write(tmp_path, text)))
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_cli_bad_file_one_line_exit_2_nothing_written(tmp_path, capsys):
    cfg = write(tmp_path, "[sweep]\nsearch = 'grdi'\n")
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("surnn-neuro: error:") and "sweep.search" in err[0]
    assert not out.exists()


def test_grid_enumeration_and_conditional_options(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert check_trials(cfg) == "accuracy"
    # 2 models × 2 λ × 2 duty = 8 combinations; gru takes no 'duty', so its two duty values are one
    # configuration: 4 sugru + 2 gru = 6 distinct runs
    trials = grid_trials(cfg)
    assert n_trials(cfg) == 6 == len(trials)
    cfgs = [trial_train_config(t, cfg.model_options) for t in trials]
    assert [(c.model, c.budget, c.options) for c in cfgs] == [
        ("sugru", 0.0, {"duty": 0.1}), ("sugru", 0.0, {"duty": 0.3}), ("sugru", 0.01, {"duty": 0.1}),
        ("sugru", 0.01, {"duty": 0.3}), ("gru", 0.0, {}), ("gru", 0.01, {})]
    assert len({trial_key(c) for c in cfgs}) == 6
    # device and threads resolved from [resources]: 1 CPU, no GPU
    assert {(c.device, c.threads) for c in cfgs} == {("cpu", 1)}


def test_reproduce_command_parses_back_to_the_same_config():
    from surnn_neuro.cli import _parse_options, make_parser

    c = trial_train_config({"task": "adding", "model": "sugru", "hidden": 12, "lr": 0.0012345678901234,
                            "budget": 1e-5, "seq_len": 40, "seed": 3, "device": "cpu", "threads": 1,
                            "options": {"duty": 0.2, "learn_gate": False}}, {})
    args = make_parser().parse_args(shlex.split(reproduce_command(c))[1:])
    again = trial_train_config({**vars(args), "options": _parse_options(args.model, args.option)}, {})
    assert again == c and trial_key(again) == trial_key(c)


def test_more_cpus_per_trial_than_the_local_ray_has(tmp_path, capsys):
    cfg = write(tmp_path, "[resources]\ncpus = 3\n[ray]\nnum_cpus = 2\n[train]\ntask='digits'\nmodel='gru'\n")
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "resources.cpus: 3 per trial but the local Ray instance has 2 CPUs" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_worked_example_is_valid():
    from pathlib import Path

    cfg = load_config(Path(__file__).resolve().parents[2] / "examples" / "sweep_digits.toml")
    assert check_trials(cfg) == "accuracy"
    assert n_trials(cfg) == 10 and cfg.settings.search == "optuna" and cfg.cost_key == "energy_pJ_loihi1_table2"
