"""Live fan-out of stored events."""

from whetstone.bus.base import EventBus, SubscriberEvicted, Subscription
from whetstone.bus.memory import InProcessEventBus

__all__ = ["EventBus", "InProcessEventBus", "SubscriberEvicted", "Subscription"]
