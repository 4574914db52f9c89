-- Argo CD health of a SparseModel, from the status the operator writes (it never writes spec).
local hs = {}
local function condition(type)
  if obj.status ~= nil and obj.status.conditions ~= nil then
    for _, c in ipairs(obj.status.conditions) do
      if c.type == type then
        return c
      end
    end
  end
  return nil
end

if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to pick up the SparseModel"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end

local phase = obj.status.phase
local ready = condition("Ready")
local message = phase
if ready ~= nil and ready.message ~= nil then
  message = phase .. ": " .. ready.message
end
local rollout = obj.status.rollout

if phase == "Promoted" then
  hs.status = "Healthy"
elseif phase == "GatePassed" and obj.spec.rollout ~= nil and obj.spec.rollout.replicas == 0 then
  -- Gated but deliberately not served.
  hs.status = "Healthy"
elseif phase == "Failed" or phase == "GateFailed" or phase == "RolledBack" then
  hs.status = "Degraded"
  if phase == "RolledBack" and rollout ~= nil and rollout.message ~= nil then
    message = phase .. ": " .. rollout.message
  end
elseif phase == "RollingOut" and rollout ~= nil and rollout.awaitingPromotion == true then
  hs.status = "Suspended"
  if rollout.message ~= nil then
    message = phase .. ": " .. rollout.message
  end
else
  -- Pending, Pruning, FineTuning, Quantizing, BuildingEngine, Evaluating, GatePassed (the
  -- canary is about to start), RollingOut.
  hs.status = "Progressing"
end
hs.message = message
return hs
