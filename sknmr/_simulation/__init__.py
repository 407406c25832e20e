"""The parts of :class:`~sknmr.EchoSimulator`'s work, one concern a module.

``settings``: the settings checked together and the relaxation they set;
``table``: parameter tables checked and put in the simulator's terms;
``workload``: the memory a run needs and the time it takes, before it starts;
``lattice_range``: kernels reaching round the periodic lattice, warned of;
``batches``: the echoes simulated a batch at a time (kernel spectra, offsets
drawn with the line shape, relaxation per step).
"""
