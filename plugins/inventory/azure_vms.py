# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: azure_vms
short_description: Azure virtual machines as inventory hosts, with their identities and addresses
version_added: 0.1.0
description:
  - Lists the virtual machines of one or more subscriptions and makes each one a host of the group C(azure_vms),
    with the host variables the roles of this collection read (C(azure_vm_name), C(azure_resource_group),
    C(azure_subscription_id)), so C(site.yml) runs on the fleet with no hand-written host list.
  - Per subscription it makes four list calls, whatever the number of VMs - the VMs, their power states, the network
    interfaces and the public IP addresses - follows their C(nextLink) pages and joins them locally. It never sends
    one request per VM, nor Azure's C(/batch) endpoint.
  - Throttling (HTTP 429 with C(Retry-After)) and transient failures are retried within O(max_wait). A list that
    still fails fails the inventory, naming the subscription, unless O(on_subscription_error=skip); the fleet is
    never silently partial.
  - The operator authenticates as with the modules of this collection, with the same options and the Azure SDKs'
    environment variables (E(AZURE_TENANT_ID), E(AZURE_CLIENT_ID), E(AZURE_CLIENT_SECRET), ...). Reading needs
    C(Reader) (or C(Microsoft.Compute/virtualMachines/read), C(Microsoft.Network/networkInterfaces/read) and
    C(Microsoft.Network/publicIPAddresses/read)) on each subscription.
  - With the inventory cache on (O(cache)), a run within O(cache_timeout) sends no request at all. The cached fleet
    belongs to the file, the subscriptions and the cloud; O(filters), O(host_address), O(compose) and the groups
    apply to it at once. The cache holds host variables only, never a token.
  - String options may be Jinja templates (for example a lookup of a vault or of a file), templated when the
    inventory is read.
  - 'Host variables: C(azure_vm_name), C(azure_resource_group), C(azure_subscription_id), C(azure_resource_id),
    C(azure_vm_id) (the VM''s unique vmId), C(azure_location), C(azure_vm_size), C(azure_os_type) (C(Linux) or
    C(Windows)), C(azure_computer_name), C(azure_provisioning_state), C(azure_power_state) (C(running), C(stopped),
    C(deallocated), ...), C(azure_tags), C(azure_identity) (C(type), C(principal_id), C(tenant_id) of the
    system-assigned identity and C(user_assigned), a list of C(id), C(name), C(client_id), C(principal_id)),
    C(azure_private_ips) and C(azure_public_ips) (the primary NIC''s primary address first), C(azure_private_ip),
    C(azure_public_ip), and C(ansible_host) (see O(host_address)).'
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.auth
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; the file name must end in C(azure_vms.yml) or C(azure_vms.yaml).
    type: str
    required: true
    choices: [managed_identity.azure.azure_vms]
  subscription_ids:
    description:
      - The subscriptions whose VMs to list.
      - Defaults to O(subscription_id), then E(AZURE_SUBSCRIPTION_ID). Subscriptions are never guessed from what the
        credential can see.
    type: list
    elements: str
    default: []
  filters:
    description:
      - Keep only the VMs that match every given key. Names compare case-insensitively.
      - C(resource_groups) - a list of resource group names.
      - C(locations) - a list of locations (C(westeurope) or C(West Europe)).
      - C(tags) - a mapping of tag name to a value, a list of accepted values, or C(null) for any value.
    type: dict
    default: {}
  host_address:
    description:
      - What C(ansible_host) is set to.
      - V(private_ip) - the primary private IP address of the VM's primary network interface.
      - V(public_ip) - the public IP address of that IP configuration; VMs without one get their private address.
      - O(compose) can set C(ansible_host) to anything else.
    type: str
    default: private_ip
    choices: [private_ip, public_ip]
  hostnames:
    description:
      - Jinja expressions over the host variables, tried in order; the first one that gives a non-empty string is
        the host's name. The default is the VM's name.
      - VM names are unique per resource group only. When two VMs get the same name, the inventory fails and names
        both; use for example V(azure_resource_group ~ '_' ~ azure_vm_name).
    type: list
    elements: str
    default: [azure_vm_name]
  on_subscription_error:
    description:
      - What to do when a subscription cannot be listed (no permission, not found, or still failing after the
        retries).
      - V(fail) fails the inventory with the subscription's ID and Azure's error.
      - V(skip) leaves that subscription's VMs out with a warning naming it.
    type: str
    default: fail
    choices: [fail, skip]
seealso:
  - name: The inventory guide of this collection
    description: Example configurations for Azure and for the offline emulator.
    link: https://github.com/managed-identity/azure/blob/main/docs/inventory.md
"""

EXAMPLES = r"""
# fleet.azure_vms.yml: every VM of two subscriptions; Windows and Linux VMs in groups of their own
plugin: managed_identity.azure.azure_vms
subscription_ids:
  - 00000000-0000-0000-0000-000000000001
  - 00000000-0000-0000-0000-000000000002
keyed_groups:
  - key: azure_os_type | lower
    prefix: os
  - key: azure_tags.env | default('none')
    prefix: env
groups:
  running: azure_power_state == 'running'
  no_identity: azure_identity.type == 'None'

# web.azure_vms.yml: only production web VMs, reached on their public addresses, with the cache on
plugin: managed_identity.azure.azure_vms
filters:
  resource_groups: [rg-web]
  locations: [westeurope]
  tags:
    env: prod
    role: [web, api]
host_address: public_ip
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 600
"""

import hashlib
import json
import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.managed_identity.azure.plugins.module_utils import _fleet
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_options import AUTH_OPTION_NAMES
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError, ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._module import client_from_params

GROUP = "azure_vms"
DEFAULT_HOSTNAMES = ["azure_vm_name"]
TEMPLATED_OPTIONS = tuple(sorted(AUTH_OPTION_NAMES)) + ("subscription_ids",)
PATH_OPTIONS = ("ca_path", "federated_token_file")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "managed_identity.azure.azure_vms"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("azure_vms.yml", "azure_vms.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._config = self._read_config_data(path)
        try:
            filters = _fleet.parse_filters(self.get_option("filters"))
            hosts = [h for h in self._hosts(path, cache) if filters.keep(h)]
            self._populate(hosts)
        except AzureError as err:
            raise AnsibleParserError("azure_vms inventory %s: %s" % (path, err)) from None

    # Options --------------------------------------------------------------------------------------------
    def _option(self, name):
        # Templated from the file's text: type=path options are already made absolute by get_option, which would
        # put the working directory in front of a template.
        raw = self._config.get(name)
        if name in TEMPLATED_OPTIONS and raw is not None and "{{" in str(raw):
            value = self.templar.template(raw)
            return os.path.expanduser(value) if name in PATH_OPTIONS and value else value
        return self.get_option(name)

    def _subscription_ids(self):
        ids = self._option("subscription_ids") or []
        ids = [ids] if isinstance(ids, str) else [s for s in ids if s]
        if not ids:
            single = self._option("subscription_id") or os.environ.get("AZURE_SUBSCRIPTION_ID")
            ids = [single] if single else []
        if not ids:
            raise ConfigurationError(
                "no subscription to list: set subscription_ids (or subscription_id) in the inventory file, "
                "or AZURE_SUBSCRIPTION_ID"
            )
        return list(dict.fromkeys(ids))

    # Hosts ----------------------------------------------------------------------------------------------
    def _hosts(self, path, cache):
        """Every VM's host variables, from the inventory cache when it has them (then no request is sent)."""
        use_cache = self.get_option("cache")
        subscription_ids = self._subscription_ids()
        # Another list of subscriptions or another cloud is another fleet: it must not be answered from the cache.
        scope = json.dumps([subscription_ids, self._option("cloud"), self._option("arm_endpoint")])
        key = "%s_%s" % (self.get_cache_key(path), hashlib.sha256(scope.encode()).hexdigest()[:8])
        if use_cache and cache:
            try:
                return self._cache[key]
            except KeyError:
                pass
        params = {name: self._option(name) for name in AUTH_OPTION_NAMES}
        client = client_from_params(params, warn=self.display.warning)
        hosts = _fleet.fleet(
            client,
            subscription_ids,
            on_subscription_error=self.get_option("on_subscription_error"),
            warn=self.display.warning,
        )
        if use_cache:
            self._cache[key] = hosts
        return hosts

    def _populate(self, hosts):
        strict = self.get_option("strict")
        compose = self.get_option("compose")
        groups = self.get_option("groups")
        keyed_groups = self.get_option("keyed_groups")
        host_address = self.get_option("host_address")
        self.inventory.add_group(GROUP)
        names = self._host_names(hosts)
        for name, hostvars in zip(names, hosts):
            address = _fleet.ansible_host(hostvars, host_address)
            if address:
                hostvars = dict(hostvars, ansible_host=address)
            self.inventory.add_host(name, group=GROUP)
            for var, value in hostvars.items():
                self.inventory.set_variable(name, var, value)
            self._set_composite_vars(compose, hostvars, name, strict=strict)
            self._add_host_to_composed_groups(groups, hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(keyed_groups, hostvars, name, strict=strict)

    def _host_names(self, hosts):
        expressions = self.get_option("hostnames") or DEFAULT_HOSTNAMES
        names = []
        owners = {}
        for hostvars in hosts:
            name = self._host_name(expressions, hostvars)
            if name in owners:
                raise AnsibleParserError(
                    "two VMs have the host name %r: %s and %s. Set hostnames to make names unique, for example "
                    "hostnames: [\"azure_resource_group ~ '_' ~ azure_vm_name\"]"
                    % (name, owners[name], hostvars["azure_resource_id"])
                )
            owners[name] = hostvars["azure_resource_id"]
            names.append(name)
        return names

    def _host_name(self, expressions, hostvars):
        if expressions == DEFAULT_HOSTNAMES:
            return hostvars["azure_vm_name"]
        for expression in expressions:
            try:
                value = self._compose(expression, hostvars)
            except Exception as exc:  # any templating error, reported with the expression
                raise AnsibleParserError("hostnames expression %r failed: %s" % (expression, exc)) from None
            if isinstance(value, str) and value:
                return value
        raise AnsibleParserError(
            "no hostnames expression gave a name for VM %s; add one that always does, such as azure_vm_name"
            % hostvars["azure_resource_id"]
        )
