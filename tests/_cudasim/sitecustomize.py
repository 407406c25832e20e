"""Loaded at start-up by the tests' CUDA-simulator subprocesses (PYTHONPATH).

numba-cuda's simulator hands a block's threads their shared array without a
lock (``FakeCUDAShared.array`` looks the array up, then stores a new one), so
two threads of a block that ask at the same moment can get two arrays; a
block reduction then adds uninitialised memory. The tests saw it as a wrong
or infinite sum in about one float32 simulation in ten (threads switch every
1e-4 s there). This makes the look-up and the store one step; the arrays are
keyed by the line that asks for them, as the simulator keys them.
"""

import sys
import threading
import traceback


def _serialise_shared_arrays():
    try:
        import numpy as np
        from numba.cuda import types
        from numba.cuda.np import numpy_support
        from numba.cuda.simulator import kernelapi
    except Exception:  # no numba-cuda: nothing to mend
        return
    original = kernelapi.FakeCUDAShared.array
    lock = threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:  # dynamic memory, errors
            return original(self, shape, dtype, alignment)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        caller = traceback.extract_stack(sys._getframe(1), limit=1)[-1][0:2]
        with lock:
            found = self._allocations.get(caller)
            if found is None:
                found = self._allocations[caller] = np.empty(shape, dtype)
        return found

    kernelapi.FakeCUDAShared.array = array


_serialise_shared_arrays()
