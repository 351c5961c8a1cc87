"""Builds Events API batches with mParticle's official Python SDK and prints them as one JSON array.

Each batch holds events the SDK lets a user build with fields left out (as its constructors
default every argument to None), so the forwarder must take them as the SDK sends them.
`build_batches.py RUN` prints batches of the usual event types; `build_batches.py RUN changes`
prints batches of user attribute change events, which the SDK builds without `new` or `old`.
"""
import json
import sys

import mparticle
from mparticle import ApiClient
from mparticle.models import UserAttributeChangeEvent  # not exported at the package's top level


def batch_of(*events):
    batch = mparticle.Batch()
    batch.environment = 'development'
    batch.mpid = 8000000000001528368
    batch.user_identities = mparticle.UserIdentities()
    batch.user_identities.customerid = 'python-sdk-user'
    batch.events = list(events)
    return ApiClient.sanitize_for_serialization(batch)


def attribute_changes(run):
    # A deleted attribute has no new value, and the SDK sends no old one unless told.
    deleted = UserAttributeChangeEvent(user_attribute_name='tier', deleted=True)
    # A new attribute has no old value.
    added = UserAttributeChangeEvent(user_attribute_name='plan', new='gold', is_new_attribute=True)
    # An attribute that changed, with both values (a list is a multi-valued attribute).
    changed = UserAttributeChangeEvent(
        user_attribute_name='favourites', new=['a', 'b'], old=['a'], deleted=False, is_new_attribute=False)
    named = mparticle.AppEvent(event_name='python-sdk ' + run, custom_event_type='other')
    return [batch_of(deleted, named), batch_of(added, changed)]


def main():
    run = sys.argv[1]
    if sys.argv[2:] == ['changes']:
        print(json.dumps(attribute_changes(run)))
        return
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
