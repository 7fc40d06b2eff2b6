import pytest

from chaos.runtime import STACK, ServiceSpec
from chaos.runtime.errors import UnknownService
from chaos.runtime.stack import check_start_order, spec_named
from services.topology import PROFILES_REPLICAS


def test_stack_lists_the_services_and_replicas_in_start_order_on_their_ports() -> None:
    assert [(s.name, s.port) for s in STACK] == [
        ("catalog", 8081),
        ("profiles", 8084),
        ("profiles-eu", 8085),
        ("profiles-apac", 8086),
        ("recommendations", 8082),
        ("playback", 8083),
    ]


def test_stack_services_run_as_modules_of_the_services_package() -> None:
    replicas = set(PROFILES_REPLICAS.values())
    others = [spec for spec in STACK if spec.name not in replicas]
    assert all(spec.module == f"services.{spec.name}" for spec in others)
    assert {spec.module for spec in STACK if spec.name in replicas} == {"services.profiles"}


def test_each_profiles_replica_runs_in_its_own_region() -> None:
    regions = {spec.name: dict(spec.env).get("CHAOSBED_PROFILES_REGION") for spec in STACK}
    assert {replica: regions[replica] for replica in PROFILES_REPLICAS.values()} == {
        replica: region for region, replica in PROFILES_REPLICAS.items()
    }


def test_stack_dependencies_come_before_their_dependents() -> None:
    check_start_order(STACK)


def test_a_dependency_listed_after_its_dependent_is_refused() -> None:
    specs = [ServiceSpec("a", "m", 1, ("b",)), ServiceSpec("b", "m", 2)]
    with pytest.raises(ValueError, match="'a' depends on 'b'"):
        check_start_order(specs)


def test_two_services_on_one_port_are_refused() -> None:
    with pytest.raises(ValueError, match="port 1"):
        check_start_order([ServiceSpec("a", "m", 1), ServiceSpec("b", "m", 1)])


def test_a_service_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="'a' is listed twice"):
        check_start_order([ServiceSpec("a", "m", 1), ServiceSpec("a", "m", 2)])


def test_the_stack_and_the_services_take_their_ports_from_one_table() -> None:
    from services.catalog.settings import CatalogSettings
    from services.playback.settings import PlaybackSettings
    from services.recommendations.settings import RecommendationsSettings
    from services.topology import PORTS

    assert {spec.name: spec.port for spec in STACK} == dict(PORTS)
    assert CatalogSettings.from_env({}).service.port == PORTS["catalog"]
    for settings in (PlaybackSettings.from_env({}), RecommendationsSettings.from_env({})):
        assert settings.profiles.base_url == "http://127.0.0.1:8084"
        assert settings.catalog.base_url == "http://127.0.0.1:8081"


def test_a_spec_is_found_by_name_or_the_error_names_the_known_ones() -> None:
    assert spec_named(STACK, "playback").base_url == "http://127.0.0.1:8083"
    with pytest.raises(UnknownService, match="the stack has: catalog, profiles"):
        spec_named(STACK, "billing")
