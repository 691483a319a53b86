"""The built-in demo plant: a small tank/pump process model served over real OPC UA and Modbus TCP.

``make run`` starts it in a child process (``python -m drivers.sim``) and the HMI connects to it
exactly as it would to a real controller, so the whole driver stack is exercised end to end.
Tests start the same plant in-process with :class:`drivers.sim.plant.DemoPlant`.

Nothing heavy is imported here on purpose: importing ``drivers.sim`` must not pull in asyncua or
pymodbus, so that ``drivers.sim.plant_model`` stays usable on its own.
"""
