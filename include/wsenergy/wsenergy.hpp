#pragma once
/// @file wsenergy.hpp
/// @brief Everything of `wsenergy::core` in one include.

#include "wsenergy/advisor.hpp"
#include "wsenergy/carbon.hpp"
#include "wsenergy/datasets.hpp"
#include "wsenergy/detect.hpp"
#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/presets.hpp"
#include "wsenergy/topology.hpp"
#include "wsenergy/version.hpp"
#include "wsenergy/working_set.hpp"
#include "wsenergy/workload.hpp"
