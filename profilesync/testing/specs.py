"""Check sandbox traffic against the vendors' published API specs.

The sandboxes that stand in for HubSpot, Mailchimp, Klaviyo, Stripe and Shopify are only useful if
they answer like the real services. Tests therefore validate every sandbox response (and every JSON
request a connector sends) against the vendor's OpenAPI document, and every Shopify GraphQL document
(and the ``data`` a sandbox answers with) against Shopify's Admin schema::

    spec = OpenApiSpec.load("hubspot-crm-contacts-v3.json.gz")
    spec.validate_httpx(response.request, response)          # raises SpecViolation

    shopify = GraphQLSchema.load()
    shopify.validate(query, variables)
    shopify.validate_result(query, body["data"], variables)

The specs live, gzipped and as published, in ``specs/`` at the repository root (see its README).
Loads are cached per process: the Shopify SDL (3.4 MB) takes about two seconds to build.
``OpenApiSpec`` is in ``spec_openapi``, ``GraphQLSchema`` in ``spec_graphql``, the spec files and
``SpecViolation`` in ``spec_files``; all are importable from here.

Adjustments made to the published documents at load time, each because the document as published
cannot be validated against as its authors meant (see ``spec_openapi._normalise``):

* OpenAPI 3.0 ``nullable: true`` next to ``$ref``/``allOf``/``oneOf``/``anyOf`` and no ``type``
  (Klaviyo, 77 places; Stripe, 421) is rewritten to ``anyOf: [<schema>, null]``. A validator
  applies ``nullable`` only together with ``type``, so these documented-nullable values (Stripe's
  ``customer.address``, Klaviyo's ``subscriptions``) would otherwise be rejected when null.
* ``nullable: true`` next to an ``enum`` that does not list null (Stripe, 137 places: ``invoice.
  automatic_tax.status``; Klaviyo, 12) gets null added to the enum: the ``enum`` keyword is checked on
  its own, so the documented-nullable value would otherwise fail as "None is not one of [...]".
* A ``discriminator`` without a ``mapping`` over inline (non-``$ref``) alternatives (Mailchimp,
  50 places: segment conditions, activity types; converted from Swagger 2) is dropped: the implicit mapping
  names ``#/components/schemas/<value>``, which does not exist, so every such value would fail.
  The ``oneOf`` itself is still validated.
* HubSpot's CRM objects (``SimplePublicObject`` and the other answers' object schemas) type every
  property value as a string, while the API answers a requested property that is unset as ``null``
  (hubspot-api-client's models type the values ``Optional``): in answers (schemas whose name has no
  ``Input``) property values may be null. Requests still may not send null.
* The Shopify SDL declares four implementation fields deprecated whose interface fields are not
  (``Customer.hasTimelineComment``, ``DiscountAutomaticBxgy.id``, ``MediaImage.metafield(s)``);
  graphql-core 3.3 rejects the whole schema for that, so those fields are un-deprecated.
"""

from __future__ import annotations

from profilesync.testing.spec_files import SPEC_DIR as SPEC_DIR
from profilesync.testing.spec_files import SpecViolation as SpecViolation
from profilesync.testing.spec_files import _read_text as _read_text
from profilesync.testing.spec_files import _spec_path as _spec_path
from profilesync.testing.spec_graphql import GraphQLSchema as GraphQLSchema
from profilesync.testing.spec_openapi import OpenApiSpec as OpenApiSpec

__all__ = ["SPEC_DIR", "GraphQLSchema", "OpenApiSpec", "SpecViolation"]
