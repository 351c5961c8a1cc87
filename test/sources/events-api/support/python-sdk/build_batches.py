"""Builds Events API batches with mParticle's official Python SDK and prints them as one JSON array.

Each batch holds events the SDK lets a user build with fields left out (as its constructors
default every argument to None), so the forwarder must take them as the SDK sends them.
"""
import json
import sys

import mparticle
from mparticle import ApiClient


def batch_of(*events):
    batch = mparticle.Batch()
    batch.environment = 'development'
    batch.mpid = 8000000000001528368
    batch.user_identities = mparticle.UserIdentities()
    batch.user_identities.customerid = 'python-sdk-user'
    batch.events = list(events)
    return ApiClient.sanitize_for_serialization(batch)


def main():
    run = sys.argv[1]
    named = mparticle.AppEvent(event_name='python-sdk ' + run, custom_event_type='other')
    push = mparticle.PushMessageEvent(push_message_token='token', push_message_type='received')
    network = mparticle.NetworkPerformanceEvent(http_verb='GET', url='https://example.invalid/a')
    session_end = mparticle.SessionEndEvent()
    screen = mparticle.ScreenViewEvent()
    screen.screen_name = 'home'
    batches = [
        batch_of(named, push),
        batch_of(network, session_end),
        batch_of(screen, mparticle.SessionStartEvent(), mparticle.OptOutEvent()),
    ]
    print(json.dumps(batches))


if __name__ == '__main__':
    main()
