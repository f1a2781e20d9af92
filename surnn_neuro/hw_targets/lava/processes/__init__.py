"""Lava Processes of the selective-update network, each with its ProcessModels side by side.

Only Process and ProcessModel modules live here: Lava's model discovery imports every module in the
folder of a Process (lava-nc issues #149, #284, #326). Helpers live one level up
(``surnn_neuro.hw_targets.lava.fixed_point``, ``.timing``).

========================  =======================================  ============================
Process                   role                                     models (tags)
========================  =======================================  ============================
InputEventCounter         counts input events and their fan-out    floating_pt, fixed_pt
SelectiveUpdateNeurons    one layer: gated candidate, delta events floating_pt, fixed_pt
SpikeScheduleGate         oscillator / schedule / always gates     floating_pt + fixed_pt (one)
ThresholdGateNeuron       SA-RNN coordinator gate                  floating_pt, fixed_pt
GlobalGateNeuron          Skip-RNN gate (one bit for the layer)    floating_pt, fixed_pt
ReadoutNeurons            y = W_o h + b_o (sigma of the deltas)     floating_pt, fixed_pt
========================  =======================================  ============================
"""
