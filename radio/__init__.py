"""rantwin.radio — Φ: pure, batched, differentiable radio physics in torch.

Path loss (FSPL, Okumura–Hata, WINNER II, TR 38.901 UMa / UMi / RMa), LOS probability,
correlated shadowing, O2I penetration, the TR 38.901 antenna pattern with tilt, hexagonal
geometry with wrap-around, thermal noise, SINR → CQI → spectral efficiency (TS 38.214), the
EARTH power model, and :func:`coupling_gain_db`, the entry used by simulator and surrogate.
This package imports nothing else of the project.
"""

from .antenna import element_gain_dbi, sector_gain_dbi
from .energy import MACRO, MICRO, EarthParams, bs_power_w
from .geometry import LinkGeometry, hex_site_positions, link_geometry, wraparound_offsets
from .link import (
    CQI_SINR_THRESHOLDS_DB,
    CQI_TABLE_64QAM,
    CQI_TABLE_256QAM,
    cqi_to_spectral_efficiency,
    rsrp_dbm,
    sinr_db,
    sinr_to_cqi,
    spectral_efficiency,
    throughput_bps,
)
from .noise import thermal_noise_dbm
from .o2i import indoor_distance_sample, o2i_loss_db
from .pathloss import (
    MODELS,
    PathlossValidityWarning,
    decorrelation_distance_m,
    los_probability,
    pathloss_db,
    shadowing_std_db,
)
from .phi import coupling_gain_db
from .shadowing import combine_site_fields, gaussian_field, sample_field

__all__ = [
    "CQI_SINR_THRESHOLDS_DB",
    "CQI_TABLE_256QAM",
    "CQI_TABLE_64QAM",
    "MACRO",
    "MICRO",
    "MODELS",
    "EarthParams",
    "LinkGeometry",
    "PathlossValidityWarning",
    "bs_power_w",
    "combine_site_fields",
    "coupling_gain_db",
    "cqi_to_spectral_efficiency",
    "decorrelation_distance_m",
    "element_gain_dbi",
    "gaussian_field",
    "hex_site_positions",
    "indoor_distance_sample",
    "link_geometry",
    "los_probability",
    "o2i_loss_db",
    "pathloss_db",
    "rsrp_dbm",
    "sample_field",
    "sector_gain_dbi",
    "shadowing_std_db",
    "sinr_db",
    "sinr_to_cqi",
    "spectral_efficiency",
    "thermal_noise_dbm",
    "throughput_bps",
    "wraparound_offsets",
]
