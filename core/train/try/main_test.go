package try
import ("context";"fmt";"testing";"os";"strconv";"rulescape/core/tasks";"rulescape/core/train";"rulescape/core/plasticity")
func env(k string, d float64) float64 { if v:=os.Getenv(k); v!="" { f,_:=strconv.ParseFloat(v,64); return f}; return d}
func TestTry(t *testing.T){
 task,_:=tasks.New("dnms")
 s:=train.Miconi2017(task,int(env("TRIALS",3000)))
 s.Rule,_=plasticity.Named(os.Getenv("RULE"),3,3)
 s.Learner.Eta=env("ETA",0.1); s.Learner.Clip=env("CLIP",3e-4); s.Learner.AlphaX=env("AX",0.05)
 res,err:=train.RunSeeds(context.Background(),s,[]uint64{uint64(env("SEED",1))},2,nil)
 if err!=nil {t.Fatal(err)}
 for _,r:=range res { fmt.Println(os.Getenv("RULE"),"eta",s.Learner.Eta,"ax",s.Learner.AlphaX,"clip",s.Learner.Clip,r.Seed,r.TrialsToCriterion,r.FinalError,r.FinalAccuracy,r.Wall)
  for h:=0;h<r.Trials;h+=200 { s:=0.0; for k:=h;k<h+200;k++{s+=r.Errors[k]}; fmt.Printf("%.3f ",s/200)}; fmt.Println()}
}
