"""The development harness: the local stack (`serve`), the demo, the simulator and its scenarios, the fault
proxy. It may use the operator commands (the demo ends with the ROI report); they never use it.
"""
