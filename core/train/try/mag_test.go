package try
import ("fmt";"math";"sort";"math/rand/v2";"testing";"rulescape/core/tasks";"rulescape/core/rnn";"rulescape/core/plasticity")
func TestMag(t *testing.T){
 rng:=rand.New(rand.NewPCG(1,2))
 net,_:=rnn.Init(rng, rnn.InitConfig{N:200,G:1.5,Clamps:[]float64{1,1,-1}},2,1)
 tr:=tasks.NewDNMS().Trial(1,nil)
 for _,name:=range []string{"miconi","node-perturbation","miconi-linear-pre"}{
  rule,_:=plasticity.Named(name,3,3)
  cfg:=plasticity.Miconi2017(); cfg.WarmupTrials=0
  l,_:=plasticity.NewLearner(net.Clone(), rnn.Dynamics{Dt:1,Tau:30}, rule, cfg, 4)
  x0:=make([]float64,200); net.InitState(rng,x0,0.1)
  xi:=make([]float64,1000*200); rnn.Perturbation{Scheme:rnn.Decoupled,Prob:0.003,Amp:16,Start:4}.Fill(rng,xi,1000,200)
  l.Learn(&tr,x0,xi,nil)
  a:=make([]float64,len(l.Elig)); for k,v:=range l.Elig{a[k]=math.Abs(v)}; sort.Float64s(a)
  fmt.Printf("%s |e| p50=%.3g p90=%.3g p99=%.3g max=%.3g\n",name,a[len(a)/2],a[len(a)*9/10],a[len(a)*99/100],a[len(a)-1])
 }
}
